//! The original ImageNet model as a zero-shot cat/dog classifier: the baseline teachcam's
//! trained head is compared with.

/// ImageNet class indices of dog breeds (151 Chihuahua … 268 Mexican hairless).
pub const DOG_CLASSES: std::ops::RangeInclusive<usize> = 151..=268;
/// ImageNet class indices of domestic cats (281 tabby … 285 Egyptian cat).
pub const CAT_CLASSES: std::ops::RangeInclusive<usize> = 281..=285;

/// The original model's summed softmax probability for cats and for dogs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZeroShot {
    /// Summed probability of the dog classes.
    pub dog: f32,
    /// Summed probability of the cat classes.
    pub cat: f32,
}

impl ZeroShot {
    /// Computes the scores from 1000 ImageNet logits; `None` for any other class count.
    pub fn from_logits(logits: &[f32]) -> Option<Self> {
        if logits.len() != 1000 {
            return None;
        }
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
        let total: f32 = exp.iter().sum();
        let sum = |r: std::ops::RangeInclusive<usize>| exp[r].iter().sum::<f32>() / total;
        Some(Self { dog: sum(DOG_CLASSES), cat: sum(CAT_CLASSES) })
    }

    /// The baseline's answer: `"dog"` if the dog probability beats the cat one, else `"cat"`.
    pub fn label(&self) -> &'static str {
        if self.dog > self.cat {
            "dog"
        } else {
            "cat"
        }
    }
}

/// True when a head's labels are exactly cat and dog (any order, any case): the baseline applies.
pub fn labels_are_cat_dog<S: AsRef<str>>(labels: &[S]) -> bool {
    let mut l: Vec<String> = labels.iter().map(|s| s.as_ref().to_ascii_lowercase()).collect();
    l.sort();
    l == ["cat", "dog"]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dog_logit_wins() {
        let mut logits = vec![0.0; 1000];
        logits[200] = 10.0;
        let z = ZeroShot::from_logits(&logits).unwrap();
        assert!(z.dog > 0.9 && z.cat < 0.01);
        assert_eq!(z.label(), "dog");
    }

    #[test]
    fn many_small_dog_breeds_lose_to_one_strong_cat() {
        let mut logits = vec![0.0; 1000];
        logits[282] = 8.0;
        let z = ZeroShot::from_logits(&logits).unwrap();
        assert_eq!(z.label(), "cat");
        assert!(ZeroShot::from_logits(&logits[..10]).is_none());
    }

    #[test]
    fn cat_dog_detection_ignores_order_and_case() {
        assert!(labels_are_cat_dog(&["Dog", "cat"]));
        assert!(!labels_are_cat_dog(&["cat", "dog", "none"]));
    }
}
