//! `Resize` and `Upsample` as maps along each axis: every output coordinate of a resized axis
//! reads a fixed combination of the axis' input coordinates (one for `nearest`, two for
//! `linear`, four for `cubic`, more with `antialias`), or, outside a `tf_crop_and_resize` box,
//! the extrapolation value. Resizing separates by axis, so the op is the maps applied in turn.
//! The coefficients follow the operator's definition (edge values repeat beyond the border;
//! `exclude_outside` drops and renormalises them).

/// How one output coordinate of a resized axis reads the axis' input.
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    /// `Σ coefficient · input[index]` over distinct indices.
    Taps(Vec<(usize, f64)>),
    /// The extrapolation value, whatever the input.
    Outside,
}

/// The map of one axis: one row per output coordinate.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisMap {
    /// Input length.
    pub input: usize,
    /// A row per output coordinate.
    pub rows: Vec<Row>,
}

impl AxisMap {
    /// The input coordinate each output coordinate copies, when every row copies one
    /// (a nearest-neighbour resize, or a linear one landing on input coordinates).
    pub fn picks(&self) -> Option<Vec<usize>> {
        self.rows
            .iter()
            .map(|r| match r {
                Row::Taps(t) if t.len() == 1 && (t[0].1 - 1.0).abs() < 1e-9 => Some(t[0].0),
                _ => None,
            })
            .collect()
    }
}

/// The interpolation kernel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// Nearest neighbour, rounding as named by `nearest_mode`.
    Nearest(Rounding),
    /// Linear.
    Linear,
    /// Cubic with coefficient `a`.
    Cubic(f64),
}

/// `nearest_mode`: which neighbour a coordinate between two inputs reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rounding {
    /// Halves go down.
    PreferFloor,
    /// Halves go up.
    PreferCeil,
    /// Always down.
    Floor,
    /// Always up.
    Ceil,
}

/// The attributes that shape every axis' map.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The kernel.
    pub mode: Mode,
    /// `coordinate_transformation_mode`.
    pub transform: String,
    /// `antialias` (linear and cubic downsampling widen their kernel).
    pub antialias: bool,
    /// `exclude_outside`.
    pub exclude_outside: bool,
}

/// One axis to resize: its input and output lengths, the scale, and the crop box
/// (`tf_crop_and_resize`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    /// Input length.
    pub input: usize,
    /// Output length.
    pub output: usize,
    /// Scale (output / input, or as given; an `f32` in the model).
    pub scale: f64,
    /// Region of interest, as fractions of the input: start and end.
    pub roi: (f64, f64),
}

/// The input coordinate output coordinate `x` maps to, or `None` outside the crop box. In
/// `f32` from the integer output length, as the ONNX runtime computes it (coordinates that
/// land on a rounding tie then round as they do there); `align_corners` as the operator's
/// reference computes it.
fn source(x: usize, axis: &Axis, transform: &str) -> Result<Option<f64>, String> {
    let (x, len, out, s) = (
        x as f32,
        axis.input as f32,
        axis.output as f32,
        axis.scale as f32,
    );
    let (a, b) = (axis.roi.0 as f32, axis.roi.1 as f32);
    let source = match transform {
        // The operator's reference (and its conformance data) divides by the scaled length,
        // not the integer one, here.
        "align_corners" if s * len == 1.0 => 0.0,
        "align_corners" => x * (len - 1.0) / (s * len - 1.0),
        "asymmetric" => x / s,
        "pytorch_half_pixel" if axis.output == 1 => 0.0,
        "pytorch_half_pixel" | "half_pixel" => (x + 0.5) / s - 0.5,
        "half_pixel_symmetric" => {
            let offset = len / 2.0 * (1.0 - out / (s * len));
            offset + (x + 0.5) / s - 0.5
        }
        "tf_crop_and_resize" => {
            let x = if axis.output == 1 {
                0.5 * (a + b) * (len - 1.0)
            } else {
                a * (len - 1.0) + x * (b - a) * (len - 1.0) / (out - 1.0)
            };
            if x < 0.0 || x > len - 1.0 {
                return Ok(None);
            }
            x
        }
        other => {
            return Err(format!(
                "coordinate_transformation_mode {other} not supported"
            ))
        }
    };
    Ok(Some(f64::from(source)))
}

fn cubic(a: f64, x: f64) -> f64 {
    let x = x.abs();
    if x <= 1.0 {
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    } else {
        0.0
    }
}

/// The kernel's weights at offsets `start..start + n` from the coordinate's lower neighbour
/// (`ratio` in `(0, 1]` past it), and `start`.
fn kernel(mode: Mode, antialias: bool, ratio: f64, scale: f64) -> (i64, Vec<f64>) {
    let at = |start: i64, n: i64, f: &dyn Fn(f64) -> f64| {
        (
            start,
            (start..start + n).map(|i| f(i as f64 - ratio)).collect(),
        )
    };
    match mode {
        Mode::Nearest(r) => {
            let upper = ratio == 1.0
                || match r {
                    Rounding::PreferFloor => ratio > 0.5,
                    Rounding::PreferCeil => ratio >= 0.5,
                    Rounding::Floor => false,
                    Rounding::Ceil => true,
                };
            (
                0,
                if upper {
                    vec![0.0, 1.0]
                } else {
                    vec![1.0, 0.0]
                },
            )
        }
        Mode::Linear if antialias && scale < 1.0 => {
            let start = (-1.0 / scale).floor() as i64 + 1;
            at(start, 2 - 2 * start, &|d| {
                (1.0 - (d * scale).abs()).clamp(0.0, 1.0)
            })
        }
        Mode::Linear => at(0, 2, &|d| 1.0 - d.abs()),
        Mode::Cubic(a) if antialias && scale < 1.0 => {
            let start = (-2.0 / scale).floor() as i64 + 1;
            at(start, 2 - 2 * start, &|d| cubic(a, d * scale))
        }
        Mode::Cubic(a) => at(-1, 4, &|d| cubic(a, d)),
    }
}

/// The map of one axis.
pub fn axis_map(axis: &Axis, settings: &Settings) -> Result<AxisMap, String> {
    let last = axis.input as i64 - 1;
    let mut rows = Vec::with_capacity(axis.output);
    for x in 0..axis.output {
        let Some(x) = source(x, axis, &settings.transform)? else {
            rows.push(Row::Outside);
            continue;
        };
        // The lower neighbour, with a coordinate on an input reading it as ratio 1 past the
        // one before.
        let low = if x.fract() == 0.0 { x - 1.0 } else { x.floor() } as i64;
        let ratio = x - low as f64;
        let (start, mut weights) = kernel(settings.mode, settings.antialias, ratio, axis.scale);
        let index = |j: usize| low + start + j as i64;
        if settings.exclude_outside {
            for (j, w) in weights.iter_mut().enumerate() {
                if !(0..=last).contains(&index(j)) {
                    *w = 0.0;
                }
            }
        }
        let total: f64 = weights.iter().sum();
        if total.abs() < 1e-12 {
            return Err("an output coordinate reads no input".into());
        }
        let normalise = settings.antialias || settings.exclude_outside;
        let mut taps: Vec<(usize, f64)> = Vec::new();
        for (j, w) in weights.into_iter().enumerate() {
            let w = if normalise { w / total } else { w };
            let i = index(j).clamp(0, last) as usize;
            match taps.iter_mut().find(|(k, _)| *k == i) {
                Some(t) => t.1 += w,
                None => taps.push((i, w)),
            }
        }
        taps.retain(|(_, w)| w.abs() > 1e-12);
        rows.push(Row::Taps(taps));
    }
    Ok(AxisMap {
        input: axis.input,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(mode: Mode, transform: &str) -> Settings {
        Settings {
            mode,
            transform: transform.into(),
            antialias: false,
            exclude_outside: false,
        }
    }

    fn axis(input: usize, output: usize) -> Axis {
        Axis {
            input,
            output,
            scale: output as f64 / input as f64,
            roi: (0.0, 1.0),
        }
    }

    #[test]
    fn nearest_doubling_repeats_each_input() {
        let s = settings(Mode::Nearest(Rounding::Floor), "asymmetric");
        let map = axis_map(&axis(3, 6), &s).unwrap();
        assert_eq!(map.picks(), Some(vec![0, 0, 1, 1, 2, 2]));
    }

    #[test]
    fn linear_half_pixel_upsampling_mixes_neighbours_and_repeats_edges() {
        let s = settings(Mode::Linear, "half_pixel");
        let map = axis_map(&axis(2, 4), &s).unwrap();
        assert_eq!(map.rows[0], Row::Taps(vec![(0, 1.0)]));
        assert_eq!(map.rows[1], Row::Taps(vec![(0, 0.75), (1, 0.25)]));
        assert_eq!(map.rows[2], Row::Taps(vec![(0, 0.25), (1, 0.75)]));
        assert_eq!(map.rows[3], Row::Taps(vec![(1, 1.0)]));
        assert_eq!(map.picks(), None);
    }

    #[test]
    fn cubic_weights_sum_to_one() {
        let s = settings(Mode::Cubic(-0.75), "half_pixel");
        let map = axis_map(&axis(4, 8), &s).unwrap();
        for row in &map.rows {
            let Row::Taps(t) = row else { panic!() };
            let sum: f64 = t.iter().map(|(_, w)| w).sum();
            assert!((sum - 1.0).abs() < 1e-9, "{t:?}");
        }
    }

    #[test]
    fn crop_outside_the_box_reads_the_extrapolation_value() {
        let s = settings(Mode::Linear, "tf_crop_and_resize");
        let a = Axis {
            roi: (0.4, 1.2),
            ..axis(4, 3)
        };
        let map = axis_map(&a, &s).unwrap();
        assert_eq!(map.rows[2], Row::Outside);
        assert!(matches!(map.rows[0], Row::Taps(_)));
    }

    #[test]
    fn unknown_transform_is_an_error() {
        let s = settings(Mode::Linear, "sideways");
        assert!(axis_map(&axis(2, 4), &s).is_err());
    }
}
