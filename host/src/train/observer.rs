//! A window on what the model is fed during training, for tests and debugging tools: it lets
//! a test check that the image each sample trains on is the candidate its strategy chose and
//! that scoring leaves the model untouched.
use tch::{nn::ModuleT, Tensor};

/// Sees every batch fed to the model by [`super::Session::train_epoch`]. Every method has an
/// empty default.
pub trait Observer {
    /// One no-grad scoring pass: its normalised inputs, the logits and each candidate's fitness,
    /// as the strategy receives them.
    fn scored(&mut self, x: &Tensor, logits: &Tensor, fitness: &[f32]) {
        let _ = (x, logits, fitness);
    }

    /// The normalised batch about to be trained on and its labels, with the model as it stands
    /// before the training forward pass (the model that scored the batch's candidates).
    fn training(&mut self, x: &Tensor, labels: &Tensor, model: &dyn ModuleT) {
        let _ = (x, labels, model);
    }
}
