//! The normalisation a run uses: the dataset's own per-channel mean and std, or the config's
//! `[dataset] mean`/`std`, the one place they can be overridden; checked against the channels.
use super::Experiment;
use crate::config::ConfigError;
use fuzzaug_sdk::DatasetInfo;

impl Experiment {
    /// The dataset's mean and std, or the config's overrides, checked against its channels.
    pub(super) fn normalization(
        &self,
        info: &DatasetInfo,
    ) -> Result<(Vec<f32>, Vec<f32>), ConfigError> {
        let c = info.channels as usize;
        let pick =
            |key: &str, own: &[f32], set: &Option<Vec<f32>>| -> Result<Vec<f32>, ConfigError> {
                let v = set.clone().unwrap_or_else(|| own.to_vec());
                let at = format!("dataset.{key}");
                if v.len() != c {
                    let from = if set.is_some() {
                        "the config gives"
                    } else {
                        "the dataset reports"
                    };
                    return Err(self.source.error_at(
                        &at,
                        format!(
                            "`{key}` needs one value per channel ({c}), but {from} {}",
                            v.len()
                        ),
                    ));
                }
                let (bad, rule) = if key == "std" {
                    (crate::data::bad_std(&v), "finite and positive")
                } else {
                    (crate::data::bad_mean(&v), "finite")
                };
                match bad {
                    Some(x) => Err(self
                        .source
                        .error_at(&at, format!("`{key}` values must be {rule}, got {x}"))),
                    None => Ok(v),
                }
            };
        let d = &self.config.dataset;
        Ok((
            pick("mean", &info.mean, &d.mean)?,
            pick("std", &info.std, &d.std)?,
        ))
    }
}
