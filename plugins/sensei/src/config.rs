//! The settings of the three SENSEI components, declared and checked.
use crate::selection::Rule;
use fuzzaug_sdk::prelude::*;

/// Largest population accepted.
const MAX_POPULATION: i64 = 10_000;

/// A checked configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Q.
    pub population: usize,
    /// Probability that a batch uses mutation (else crossover).
    pub mutation_rate: f64,
    /// Survivor selection.
    pub rule: Rule,
    /// Selective augmentation threshold; `None` when off (the default: plain SENSEI).
    pub threshold: Option<f64>,
    /// Per epoch, the most training images chosen from one (true class, predicted class) pair
    /// of a misclassified candidate; `None` when off (`class_pair_cap = 0`, the default).
    pub class_pair_cap: Option<u64>,
    /// What the host computes as each candidate's loss.
    pub fitness: Fitness,
}

/// The settings keys; `selection` defaults to `default_selection`.
pub fn params(default_selection: &str) -> Vec<Param> {
    vec![
        Param::optional(
            "population",
            ParamType::Integer,
            "10",
            "chromosomes per sample (Q, at least 2); μ = max(2, ⌊0.4·Q⌋) survive each generation",
        ),
        Param::optional(
            "mutation_rate",
            ParamType::Float,
            "0.6",
            "probability that a batch breeds by mutation rather than crossover (0 to 1)",
        ),
        Param::optional(
            "selection",
            ParamType::String,
            &format!("\"{default_selection}\""),
            "survivor selection: \"elitism\", \"roulette\" or \"tournament\"",
        ),
        Param::optional(
            "tournament_size",
            ParamType::Integer,
            "5",
            "candidates per tournament (2 to population), for selection = \"tournament\"",
        ),
        Param::optional(
            "fitness",
            ParamType::String,
            "\"ce\"",
            "fitness: \"ce\" (per-sample cross-entropy) or \"bce-sum\" (the original's summed binary cross-entropy)",
        ),
        Param::optional(
            "selective.enabled",
            ParamType::Bool,
            "false",
            "selective augmentation (SENSEI-SA): a sample whose top chromosome's last loss is below the threshold trains on that chromosome without a new generation; false = plain SENSEI, as published",
        ),
        Param::optional(
            "selective.threshold",
            ParamType::Float,
            "1e-3",
            "selective augmentation threshold on the top chromosome's last loss (> 0)",
        ),
        Param::optional(
            "class_pair_cap",
            ParamType::Integer,
            "0",
            "per epoch, at most this many training images chosen from one (true class, predicted class) pair of a misclassified candidate; a sample whose pick lies in a full pair trains on its highest-fitness candidate in an open pair (correctly classified ones are always open), else on the unperturbed image; 0 = off",
        ),
    ]
}

impl Config {
    /// Reads and checks `settings`.
    pub fn from_settings(settings: &Settings) -> Result<Self, PluginError> {
        let population: usize = settings.integer_in("population", 2..=MAX_POPULATION)?;

        let mutation_rate: f64 = settings.value("mutation_rate")?;
        if !(0.0..=1.0).contains(&mutation_rate) {
            return Err(PluginError::config(
                "mutation_rate",
                format!("`mutation_rate` must be between 0 and 1, got {mutation_rate}"),
            ));
        }

        let selection: String = settings.value("selection")?;
        if !Rule::NAMES.contains(&selection.as_str()) {
            return Err(PluginError::config(
                "selection",
                format!(
                    "unknown selection \"{selection}\"; valid: {}",
                    Rule::NAMES.map(|n| format!("\"{n}\"")).join(", ")
                ),
            ));
        }
        let size: i64 = settings.value("tournament_size")?;
        if selection == "tournament" || settings.is_set("tournament_size") {
            if size < 2 {
                return Err(PluginError::config(
                    "tournament_size",
                    format!("`tournament_size` must be at least 2, got {size}"),
                ));
            }
            if size > population as i64 {
                return Err(PluginError::config(
                    "tournament_size",
                    format!(
                        "`tournament_size` ({size}) must not exceed `population` ({population})"
                    ),
                ));
            }
        }
        let rule = Rule::parse(&selection, size.max(1) as usize)
            .ok_or_else(|| PluginError::new("bug: selection checked above"))?;

        let fitness: String = settings.value("fitness")?;
        let fitness = match fitness.as_str() {
            "ce" => Fitness::CrossEntropy,
            "bce-sum" => Fitness::BceSum,
            other => {
                return Err(PluginError::config(
                    "fitness",
                    format!("unknown fitness \"{other}\"; valid: \"ce\", \"bce-sum\""),
                ))
            }
        };

        let threshold: f64 = settings.value("selective.threshold")?;
        if !(threshold > 0.0 && threshold.is_finite()) {
            return Err(PluginError::config(
                "selective.threshold",
                format!("`selective.threshold` must be a number above 0, got {threshold}"),
            ));
        }
        let enabled: bool = settings.value("selective.enabled")?;

        let cap: i64 = settings.value("class_pair_cap")?;
        if cap < 0 {
            return Err(PluginError::config(
                "class_pair_cap",
                format!("`class_pair_cap` must be 0 (off) or at least 1, got {cap}"),
            ));
        }

        Ok(Self {
            population,
            mutation_rate,
            rule,
            threshold: enabled.then_some(threshold),
            class_pair_cap: (cap > 0).then_some(cap as u64),
            fitness,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, default_selection: &str) -> Result<Config, PluginError> {
        Config::from_settings(&Settings::parse(text, &params(default_selection))?)
    }

    fn err(text: &str) -> (String, String) {
        let e = parse(text, "elitism").unwrap_err();
        (e.key.to_string(), e.message.to_string())
    }

    #[test]
    fn defaults() {
        let c = parse("", "elitism").unwrap();
        assert_eq!(
            c,
            Config {
                population: 10,
                mutation_rate: 0.6,
                rule: Rule::Elitism,
                threshold: None,
                class_pair_cap: None,
                fitness: Fitness::CrossEntropy,
            }
        );
        let c = parse("selective.enabled = true\nclass_pair_cap = 0", "elitism").unwrap();
        assert_eq!((c.threshold, c.class_pair_cap), (Some(1e-3), None));
        let c = parse("class_pair_cap = 3", "elitism").unwrap();
        assert_eq!(c.class_pair_cap, Some(3));
        assert_eq!(parse("", "roulette").unwrap().rule, Rule::Roulette);
        assert_eq!(parse("", "tournament").unwrap().rule, Rule::Tournament(5));
        let c = parse(
            "population = 3\nselective = { enabled = false, threshold = 0.5 }\nmutation_rate = 1",
            "elitism",
        )
        .unwrap();
        assert_eq!((c.population, c.threshold, c.mutation_rate), (3, None, 1.0));
        assert_eq!(
            parse("population = 12\ntournament_size = 12", "tournament")
                .unwrap()
                .rule,
            Rule::Tournament(12)
        );
    }

    #[test]
    fn population_below_two() {
        assert_eq!(
            err("population = 1"),
            (
                "population".into(),
                "`population` must be between 2 and 10000, got 1".into()
            )
        );
    }

    #[test]
    fn tournament_larger_than_population() {
        let e = parse("population = 4", "tournament").unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.message.as_str()),
            (
                "tournament_size",
                "`tournament_size` (5) must not exceed `population` (4)"
            )
        );
        // Unused by elitism unless set explicitly.
        assert!(parse("population = 4", "elitism").is_ok());
        assert_eq!(
            err("population = 4\ntournament_size = 6"),
            (
                "tournament_size".into(),
                "`tournament_size` (6) must not exceed `population` (4)".into()
            )
        );
        assert_eq!(
            err("tournament_size = 1"),
            (
                "tournament_size".into(),
                "`tournament_size` must be at least 2, got 1".into()
            )
        );
    }

    #[test]
    fn threshold_not_positive() {
        for t in ["0", "-1e-3", "0.0"] {
            let (key, message) = err(&format!("selective = {{ threshold = {t} }}"));
            assert_eq!(key, "selective.threshold");
            assert!(
                message.starts_with("`selective.threshold` must be a number above 0, got "),
                "{message}"
            );
        }
        assert_eq!(
            err("selective.threshold = -0.5").1,
            "`selective.threshold` must be a number above 0, got -0.5"
        );
    }

    #[test]
    fn class_pair_cap_negative() {
        assert_eq!(
            err("class_pair_cap = -1"),
            (
                "class_pair_cap".into(),
                "`class_pair_cap` must be 0 (off) or at least 1, got -1".into()
            )
        );
        let (key, message) = err("class_pair_cap = 2.5");
        assert_eq!(key, "class_pair_cap");
        assert!(message.contains("integer"), "{message}");
    }

    #[test]
    fn unknown_selection() {
        assert_eq!(
            err("selection = \"best\""),
            (
                "selection".into(),
                "unknown selection \"best\"; valid: \"elitism\", \"roulette\", \"tournament\""
                    .into()
            )
        );
    }

    #[test]
    fn fitness_and_mutation_rate() {
        assert_eq!(
            parse("fitness = \"bce-sum\"", "elitism").unwrap().fitness,
            Fitness::BceSum
        );
        assert_eq!(parse("", "elitism").unwrap().fitness, Fitness::CrossEntropy);
        assert_eq!(
            err("fitness = \"mse\""),
            (
                "fitness".into(),
                "unknown fitness \"mse\"; valid: \"ce\", \"bce-sum\"".into()
            )
        );
        assert_eq!(
            err("mutation_rate = 1.5"),
            (
                "mutation_rate".into(),
                "`mutation_rate` must be between 0 and 1, got 1.5".into()
            )
        );
    }
}
