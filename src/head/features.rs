//! The head's featurisation: L2-normalise an embedding, subtract the training mean, scale so
//! that training features have unit mean square norm. Fitted once per training, stored in the
//! head, applied to every frame.

use crate::embed::l2_normalised;
use ndarray::Array1;
use serde::{Deserialize, Serialize};

/// Centre and scale fitted on the training embeddings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// Mean of the normalised training embeddings, subtracted before the weights apply.
    pub centre: Vec<f32>,
    /// Factor applied after centring so that training features have unit mean square norm.
    pub scale: f32,
}

impl Features {
    /// Fits the centre and scale on `rows` (raw embeddings, each `dims` long).
    pub fn fit<'a>(rows: impl IntoIterator<Item = &'a [f32]>, dims: usize) -> Self {
        let normalised: Vec<Vec<f32>> = rows.into_iter().map(l2_normalised).collect();
        let n = normalised.len().max(1) as f32;
        let mut centre = vec![0f32; dims];
        for v in &normalised {
            centre.iter_mut().zip(v).for_each(|(c, x)| *c += x / n);
        }
        let mean_sq =
            normalised.iter().map(|v| v.iter().zip(&centre).map(|(x, c)| (x - c) * (x - c)).sum::<f32>()).sum::<f32>()
                / n;
        let scale = if mean_sq > 0.0 { 1.0 / mean_sq.sqrt() } else { 1.0 };
        Self { centre, scale }
    }

    /// The feature vector of a raw embedding.
    pub fn apply(&self, embedding: &[f32]) -> Array1<f32> {
        let n = l2_normalised(embedding);
        Array1::from_iter(n.iter().zip(&self.centre).map(|(v, c)| (v - c) * self.scale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_features_are_centred_with_unit_mean_square_norm() {
        let rows: Vec<Vec<f32>> = vec![vec![1.0, 0.0, 0.5], vec![0.0, 2.0, 0.1], vec![3.0, 1.0, 0.0]];
        let f = Features::fit(rows.iter().map(Vec::as_slice), 3);
        let feats: Vec<Array1<f32>> = rows.iter().map(|r| f.apply(r)).collect();
        let mean: Vec<f32> = (0..3).map(|d| feats.iter().map(|v| v[d]).sum::<f32>() / 3.0).collect();
        assert!(mean.iter().all(|m| m.abs() < 1e-5), "{mean:?}");
        let msq = feats.iter().map(|v| v.dot(v)).sum::<f32>() / 3.0;
        assert!((msq - 1.0).abs() < 1e-4, "{msq}");
        // Only the direction of an embedding matters.
        assert_eq!(f.apply(&[2.0, 0.0, 1.0]), f.apply(&[1.0, 0.0, 0.5]));
    }
}
