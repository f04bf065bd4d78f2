//! Reading and writing `.safetensors` files: tensors by name with string metadata.
use anyhow::{bail, Context};
use safetensors::{tensor::TensorView, Dtype, SafeTensors};
use std::{collections::HashMap, path::Path};
use tch::{Kind, Tensor};

/// The safetensors dtype of a tch kind (the kinds a model's state dict holds).
fn dtype_of(kind: Kind) -> Option<Dtype> {
    Some(match kind {
        Kind::Float => Dtype::F32,
        Kind::Double => Dtype::F64,
        Kind::Half => Dtype::F16,
        Kind::BFloat16 => Dtype::BF16,
        Kind::Int64 => Dtype::I64,
        Kind::Int => Dtype::I32,
        Kind::Uint8 => Dtype::U8,
        Kind::Int8 => Dtype::I8,
        Kind::Bool => Dtype::BOOL,
        _ => return None,
    })
}

/// The tch kind of a safetensors dtype.
fn kind_of(dtype: Dtype) -> Option<Kind> {
    Some(match dtype {
        Dtype::F32 => Kind::Float,
        Dtype::F64 => Kind::Double,
        Dtype::F16 => Kind::Half,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::I64 => Kind::Int64,
        Dtype::I32 => Kind::Int,
        Dtype::U8 => Kind::Uint8,
        Dtype::I8 => Kind::Int8,
        Dtype::BOOL => Kind::Bool,
        _ => return None,
    })
}

/// The bytes of `tensors` (contiguous, on the CPU) with `metadata`, in the safetensors format.
pub fn to_bytes(
    tensors: &[(String, Tensor)],
    metadata: HashMap<String, String>,
) -> anyhow::Result<Vec<u8>> {
    let mut owned = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let dtype =
            dtype_of(t.kind()).with_context(|| format!("`{name}` has kind {:?}", t.kind()))?;
        let t = t.f_to_device(tch::Device::Cpu)?.f_contiguous()?;
        let numel = t.numel();
        let mut bytes = vec![0u8; numel * t.kind().elt_size_in_bytes()];
        t.f_copy_data_u8(&mut bytes, numel)?;
        let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        owned.push((name.clone(), dtype, shape, bytes));
    }
    let views = owned
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .with_context(|| format!("tensor `{name}`"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(safetensors::serialize(views, Some(metadata))?)
}

/// Writes `tensors` and `metadata` to `path` atomically.
pub fn write(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: HashMap<String, String>,
) -> anyhow::Result<()> {
    let bytes = to_bytes(tensors, metadata)?;
    crate::atomic::write(path, &bytes).with_context(|| format!("writing {}", path.display()))
}

/// Named tensors and string metadata: what a safetensors file holds.
pub type Contents = (Vec<(String, Tensor)>, HashMap<String, String>);

/// The tensors (on the CPU) and metadata of the safetensors file at `path`; a file that is not
/// one, truncated or with a tensor of a kind tch has no counterpart for is refused, naming it.
pub fn read(path: &Path) -> anyhow::Result<Contents> {
    let p = path.display();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {p}"))?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| anyhow::anyhow!("{p} is not a readable safetensors file: {e}"))?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| anyhow::anyhow!("{p} is not a readable safetensors file: {e}"))?;
    let mut out = Vec::new();
    for (name, view) in file.tensors() {
        let Some(kind) = kind_of(view.dtype()) else {
            bail!(
                "{p}: tensor `{name}` has dtype {:?}, which fuzzaug cannot load",
                view.dtype()
            );
        };
        let size: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        let t = Tensor::f_from_data_size(view.data(), &size, kind)
            .with_context(|| format!("{p}: tensor `{name}`"))?;
        out.push((name, t));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((out, meta.metadata().clone().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_values_kinds_and_metadata() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("w.safetensors");
        let tensors = vec![
            (
                "a.weight".to_string(),
                Tensor::from_slice(&[1.5f32, -2.0, 3.25, 4.0]).view([2, 2]),
            ),
            ("a.num_batches_tracked".to_string(), Tensor::from(7i64)),
        ];
        let meta: HashMap<String, String> = [("arch".to_string(), "x".to_string())].into();
        write(&p, &tensors, meta.clone()).unwrap();
        let (back, m) = read(&p).unwrap();
        assert_eq!(m, meta);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].0, "a.num_batches_tracked");
        assert_eq!(back[0].1.kind(), Kind::Int64);
        assert_eq!(back[0].1.size(), Vec::<i64>::new());
        assert_eq!(back[0].1.int64_value(&[]), 7);
        assert_eq!(back[1].1.size(), [2, 2]);
        assert!(back[1].1.equal(&tensors[0].1));
    }

    #[test]
    fn a_truncated_or_foreign_file_is_refused_naming_it() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("w.safetensors");
        let t = vec![(
            "w".to_string(),
            Tensor::zeros([64], (Kind::Float, tch::Device::Cpu)),
        )];
        write(&p, &t, HashMap::new()).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 10]).unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "{} is not a readable safetensors file:",
                p.display()
            )),
            "{e}"
        );
        std::fs::write(&p, b"hello, world").unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("is not a readable safetensors file"), "{e}");
        let e = read(&d.path().join("none")).unwrap_err().to_string();
        assert!(e.starts_with("cannot read"), "{e}");
    }
}
