//! A frame's small thumbnail for motion gating: the mean colour of each cell of a 16 × 12 grid,
//! from an evenly spread sample of 128 × 96 pixels (8 × 8 per cell). About 12 000 pixel reads
//! whatever the frame size, i.e. microseconds (the daemon's status line prints the time).
//!
//! Two thumbnails differ by the largest change of one cell's mean in one channel, in grey
//! levels. Averaging 64 pixels per cell divides the sensor noise by 8, so a still scene stays
//! a few levels below any sensible threshold, while an object covering a quarter of one cell
//! (a cat entering a corner) moves that cell's mean by tens of levels.

use image::RgbImage;

/// Cells across the thumbnail.
pub const COLS: usize = 16;
/// Cells down the thumbnail.
pub const ROWS: usize = 12;
/// Sampled pixels per cell, in each direction.
const SAMPLES: usize = 8;

/// Mean RGB colour of each cell, row by row, with the size of the frame it was made from.
#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail {
    width: u32,
    height: u32,
    cells: Vec<[f32; 3]>,
}

impl Thumbnail {
    /// The thumbnail of `image`; `None` for an empty image.
    pub fn of(image: &RgbImage) -> Option<Self> {
        let (width, height) = image.dimensions();
        if width == 0 || height == 0 {
            return None;
        }
        let (w, h) = (width as usize, height as usize);
        let (gw, gh) = (COLS * SAMPLES, ROWS * SAMPLES);
        let raw = image.as_raw();
        let mut sums = vec![[0u32; 3]; COLS * ROWS];
        for gy in 0..gh {
            // The centre of sample row gy of gh evenly spaced rows.
            let y = ((2 * gy + 1) * h / (2 * gh)).min(h - 1);
            let row = &raw[y * w * 3..(y + 1) * w * 3];
            let cells = &mut sums[(gy / SAMPLES) * COLS..][..COLS];
            for gx in 0..gw {
                let x = ((2 * gx + 1) * w / (2 * gw)).min(w - 1);
                let px = &row[x * 3..x * 3 + 3];
                let cell = &mut cells[gx / SAMPLES];
                for c in 0..3 {
                    cell[c] += u32::from(px[c]);
                }
            }
        }
        let n = (SAMPLES * SAMPLES) as f32;
        let cells = sums.iter().map(|s| s.map(|v| v as f32 / n)).collect();
        Some(Self { width, height, cells })
    }

    /// The largest change of one cell's mean in one channel between `self` and `other`, in
    /// grey levels (0–255); `None` when they come from frames of different sizes (the camera
    /// changed: nothing can be compared).
    pub fn largest_change(&self, other: &Thumbnail) -> Option<f32> {
        if (self.width, self.height) != (other.width, other.height) {
            return None;
        }
        let change = (self.cells.iter().zip(&other.cells))
            .flat_map(|(a, b)| (0..3).map(move |c| (a[c] - b[c]).abs()))
            .fold(0.0, f32::max);
        Some(change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// A deterministic textured scene (gradients and stripes, like a real room more than a
    /// flat colour).
    fn scene(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, if (x / 7 + y / 5) % 2 == 0 { 60 } else { 190 }])
        })
    }

    /// `image` plus independent noise of ±`amp` levels per pixel and channel (a fixed
    /// pseudo-random sequence).
    fn noisy(image: &RgbImage, amp: i32, seed: u64) -> RgbImage {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut out = image.clone();
        for v in out.iter_mut() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = ((state >> 33) % (2 * amp as u64 + 1)) as i32 - amp;
            *v = (i32::from(*v) + r).clamp(0, 255) as u8;
        }
        out
    }

    fn change(a: &RgbImage, b: &RgbImage) -> f32 {
        Thumbnail::of(a).unwrap().largest_change(&Thumbnail::of(b).unwrap()).unwrap()
    }

    #[test]
    fn the_same_frame_has_no_change() {
        let a = scene(640, 480);
        assert_eq!(change(&a, &a.clone()), 0.0);
    }

    #[test]
    fn sensor_noise_stays_below_the_default_threshold() {
        let a = scene(640, 480);
        // ±20 levels per pixel is a very noisy (dim) sensor; each cell averages 64 samples,
        // and the largest of the 576 cell changes stays well below the threshold.
        let limit = 0.75 * crate::daemon::gate::DEFAULT_THRESHOLD as f32;
        let c = change(&noisy(&a, 20, 1), &noisy(&a, 20, 2));
        assert!(c < limit, "noise moved a cell by {c} levels");
    }

    #[test]
    fn a_small_object_in_one_corner_is_a_large_change() {
        let a = scene(640, 480);
        let mut b = a.clone();
        // A 24 × 24 pixel dark object in the bottom right corner: 0.2 % of the frame.
        for y in 450..474 {
            for x in 610..634 {
                b.put_pixel(x, y, Rgb([10, 10, 10]));
            }
        }
        let c = change(&a, &b);
        assert!(c >= 40.0, "an object a third of a cell wide moved its cell by {c} levels only");
        // Even with noise on both frames.
        assert!(change(&noisy(&a, 20, 3), &noisy(&b, 20, 4)) >= 30.0);
    }

    #[test]
    fn a_global_shift_is_measured_in_levels() {
        let a = RgbImage::from_pixel(320, 240, Rgb([100, 100, 100]));
        let b = RgbImage::from_pixel(320, 240, Rgb([100, 117, 100]));
        assert_eq!(change(&a, &b), 17.0, "a change in one channel counts");
    }

    #[test]
    fn frames_of_other_sizes_cannot_be_compared_and_empty_ones_have_no_thumbnail() {
        let a = Thumbnail::of(&scene(640, 480)).unwrap();
        assert_eq!(a.largest_change(&Thumbnail::of(&scene(1280, 720)).unwrap()), None);
        assert!(Thumbnail::of(&RgbImage::new(0, 10)).is_none());
        assert!(Thumbnail::of(&RgbImage::new(10, 0)).is_none());
    }

    #[test]
    fn frames_smaller_than_the_grid_still_work() {
        for (w, h) in [(1, 1), (3, 2), (17, 5), (32, 24)] {
            let a = RgbImage::from_pixel(w, h, Rgb([10, 20, 30]));
            let b = RgbImage::from_pixel(w, h, Rgb([10, 20, 90]));
            assert_eq!(change(&a, &a), 0.0);
            assert_eq!(change(&a, &b), 60.0, "{w}x{h}");
        }
    }
}
