//! Patch rows of the MAC chip's convolutions: which convolutions fit a patch shape, how many
//! weights of a filter one row holds, and which input feeds each shared cell of a row (flat
//! patches: one output line; square patches: `H` lines).

use super::mac::{MacRowPlan, XSource};
use super::mac_shape::MacShape;
use crate::geometry::Window;

/// Whether a convolution's rows can share their kernel rows' input cells in `shape`: a patch
/// shape of the kernel's width, and a stride and dilation of 1 along the width; a square
/// patch needs a square kernel and a stride and dilation of 1 along both axes
/// ([`Window::square_chunk`]), whole lines of groups, and its spare slots within one line.
pub fn fits_patch(shape: MacShape, window: &Window) -> bool {
    if shape.patch == 0 || shape.tile || shape.width == 0 {
        return false;
    }
    if shape.square() {
        return window
            .square_chunk(shape.patch, shape.lines, shape.width)
            .is_some()
            && shape.groups == shape.lines * shape.columns()
            && shape.spare_slots() <= shape.segment_len();
    }
    shape.width.is_multiple_of(shape.patch)
        && window.kernel[1] == shape.patch
        && window.stride[1] == 1
        && window.dilation[1] == 1
}

/// Weights of a filter one row of this convolution holds: the whole channels of a square
/// patch row, the row's width otherwise (the committed message chunks the same way:
/// [`crate::commit::chunk_len`]).
pub fn chunk_len(shape: MacShape, window: &Window) -> usize {
    match shape.square() && fits_patch(shape, window) {
        true => shape.segments() * shape.patch,
        false => shape.width,
    }
}

/// A patch row's block: the inference, its first output line and first position in it.
#[derive(Clone, Copy)]
struct Block {
    copy: usize,
    oy: usize,
    ox: usize,
}

/// Blocks down and across one inference's output: `lines × columns` positions each.
fn block_grid(shape: MacShape, [oh, ow]: [usize; 2]) -> (usize, usize) {
    (
        oh.div_ceil(shape.lines.max(1)),
        ow.div_ceil(shape.columns().max(1)),
    )
}

/// Number of position blocks of one filter of a convolution that fits `shape`, over
/// `copies` inferences.
pub fn blocks(shape: MacShape, window: &Window, copies: usize) -> usize {
    let (down, across) = block_grid(shape, window.output_hw().unwrap_or([0, 0]));
    copies.max(1) * down * across
}

/// Blocks of a patch convolution's filter, in row order.
fn patch_blocks(shape: MacShape, [oh, ow]: [usize; 2], copies: usize) -> Vec<Block> {
    let (lines, cols) = (shape.lines.max(1), shape.columns().max(1));
    let (down, across) = block_grid(shape, [oh, ow]);
    (0..copies.max(1) * down * across)
        .map(|b| Block {
            copy: b / (down * across),
            oy: b / across % down * lines,
            ox: b % across * cols,
        })
        .collect()
}

/// Patch rows of a convolution that [fits](fits_patch) `shape`: a block is `H × X`
/// neighbouring positions of one inference's output (`H = 1` in a flat patch), a row's
/// weights are `R` kernel rows `(channel, ky)`, and the input lines those kernel rows meet are
/// laid out once, `K + X − 1` cells each (in a square patch, a channel's `H + K − 1` lines once
/// for all its kernel rows). Groups past the output's edge read the cells after it (or zero)
/// and their accumulators are not outputs.
pub fn conv(
    shape: MacShape,
    window: &Window,
    out_channels: usize,
    groups: usize,
    copies: usize,
) -> Vec<MacRowPlan> {
    let [oh, ow] = window.output_hw().unwrap_or([0, 0]);
    let positions = oh * ow;
    let (cin, kh) = (window.input[0] / groups.max(1), window.kernel[0]);
    let (segs, cols) = (shape.segments().max(1), shape.columns().max(1));
    let kernel_rows = cin * kh;
    let chunks = kernel_rows.div_ceil(segs);
    let blocks = patch_blocks(shape, [oh, ow], copies);
    let mut rows = Vec::new();
    for co in 0..out_channels {
        let first = crate::ir::conv_first_channel(window.input[0], out_channels, groups, co);
        let filter_start = rows.len();
        for (b, block) in blocks.iter().enumerate() {
            for c in 0..chunks {
                let live = segs.min(kernel_rows - c * segs);
                rows.push(MacRowPlan {
                    first: c == 0,
                    x: patch_cells(shape, window, *block, (first, c * segs, live)),
                    reuse: (b > 0).then_some(filter_start + c),
                    outputs: (0..shape.groups)
                        .map(|g| {
                            let (oy, ox) = (block.oy + g / cols, block.ox + g % cols);
                            (c + 1 == chunks && oy < oh && ox < ow).then(|| {
                                block.copy * out_channels * positions
                                    + co * positions
                                    + oy * ow
                                    + ox
                            })
                        })
                        .collect(),
                    filter: co,
                    span: 1,
                    offset: c * segs * shape.patch,
                    weights: shape.width.min(live * shape.patch),
                });
            }
        }
    }
    rows
}

/// The input cells of one patch row: kernel rows `start..start + live` of the filter whose
/// channels begin at `first`, for the positions of `block`. A flat patch lays out each kernel
/// row's line; a square one each channel's lines (kernel row `(ch, ky)` of line `l` reads its
/// channel's line `l + ky`).
fn patch_cells(
    shape: MacShape,
    window: &Window,
    block: Block,
    (first, start, live): (usize, usize, usize),
) -> Vec<XSource> {
    let ow = window.output_hw().map_or(0, |[_, w]| w);
    let input_len = window.input.iter().product::<usize>();
    let (kh, seg_len) = (window.kernel[0], shape.segment_len());
    let pos = block.oy * ow + block.ox;
    let at = |ch: usize, line: usize, j: usize| {
        window
            .source(first + ch, pos, line, j)
            .map_or(XSource::Zero, |i| {
                XSource::Input(block.copy * input_len + i)
            })
    };
    let mut x = vec![XSource::Zero; shape.cells()];
    if shape.square() {
        let lines = shape.lines + kh - 1;
        for r in (0..live).step_by(kh) {
            let ch = (start + r) / kh;
            for (l, j) in (0..lines).flat_map(|l| (0..seg_len).map(move |j| (l, j))) {
                x[r / kh * shape.channel_len() + l * seg_len + j] = at(ch, l, j);
            }
        }
        return x;
    }
    for r in 0..live {
        let (ch, ky) = ((start + r) / kh, (start + r) % kh);
        for j in 0..seg_len {
            x[r * seg_len + j] = at(ch, ky, j);
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::super::mac_plan::tests::products;
    use super::super::mac_plan::{conv, conv_rows, dense, dense_rows};
    use super::*;

    /// `shape` fits the convolution `w`, its row count is `conv_rows`'s, and every output's
    /// products are plain rows' products.
    fn patch_rows_match_plain_rows(
        shape: MacShape,
        w: &Window,
        (co, groups, copies): (usize, usize, usize),
    ) {
        assert!(fits_patch(shape, w), "{w:?}");
        let rows = conv(shape, w, co, groups, copies);
        let n = conv_rows(shape, w, co, groups, copies);
        assert_eq!(rows.len(), n, "{w:?}");
        let plain = MacShape::plain(2, 31);
        let expected = products(&conv(plain, w, co, groups, copies), plain);
        assert_eq!(products(&rows, shape), expected, "{w:?}");
        assert_eq!(expected.len(), co * w.positions() * copies);
    }

    /// A dense layer (70 inputs, 5 outputs, 2 batch rows) in `shape` takes `dense_rows`'s rows
    /// and computes what plain rows of the same width compute.
    fn dense_rows_match_plain_rows(shape: MacShape) {
        let rows = dense(shape, 70, 5, 2);
        assert_eq!(rows.len(), dense_rows(shape, 70, 5, 2));
        let plain = MacShape::plain(1, shape.width);
        assert_eq!(
            products(&rows, shape),
            products(&dense(plain, 70, 5, 2), plain)
        );
    }

    #[test]
    fn patch_rows_compute_what_plain_rows_compute() {
        let patch = |k| MacShape {
            groups: 4,
            width: 31 / k * k,
            patch: k,
            tile: false,
            lines: 1,
        };
        let window = |input, kernel: [usize; 2], stride, pads, dilation| Window {
            input,
            kernel,
            stride,
            pads,
            dilation,
        };
        // (window, out channels, channel groups, inferences)
        let cases = [
            (
                window([2, 9, 9], [5, 5], [1, 1], [2, 2, 2, 2], [1, 1]),
                3,
                1,
                1,
            ),
            (
                window([3, 7, 6], [3, 3], [2, 1], [0, 1, 2, 0], [2, 1]),
                2,
                1,
                2,
            ),
            (
                window([4, 5, 3], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1]),
                4,
                4,
                1,
            ),
            (
                window([2, 6, 5], [2, 5], [1, 1], [0, 0, 0, 1], [1, 1]),
                4,
                2,
                3,
            ),
            (
                window([1, 4, 2], [1, 3], [1, 1], [0, 1, 0, 1], [1, 1]),
                1,
                1,
                1,
            ),
        ];
        for (w, co, groups, copies) in cases {
            patch_rows_match_plain_rows(patch(w.kernel[1]), &w, (co, groups, copies));
        }
    }

    #[test]
    fn square_patch_rows_compute_what_plain_rows_compute() {
        let square = |k, lines, groups| MacShape {
            groups,
            width: 30 / (k * k) * k * k,
            patch: k,
            tile: false,
            lines,
        };
        // Rows wider than their whole channels (spare slots: 3 for 3 × 3, 5 for 5 × 5).
        let wide = |k, lines, groups| MacShape {
            width: 30,
            ..square(k, lines, groups)
        };
        let window = |input, kernel, pads| Window {
            input,
            kernel,
            stride: [1, 1],
            pads,
            dilation: [1, 1],
        };
        // (shape, window, out channels, channel groups, inferences): outputs that fill the
        // blocks and outputs that leave spare lines and columns, channels that fill the last
        // chunk and channels that leave it part empty, a grouped convolution, two inferences.
        let cases = [
            (square(3, 4, 16), window([3, 8, 8], [3, 3], [1; 4]), 2, 1, 1),
            (
                square(3, 4, 16),
                window([5, 6, 7], [3, 3], [1, 0, 0, 2]),
                3,
                1,
                2,
            ),
            (square(3, 2, 8), window([4, 5, 5], [3, 3], [0; 4]), 4, 2, 1),
            (
                square(2, 3, 6),
                window([7, 4, 9], [2, 2], [1, 1, 0, 0]),
                2,
                1,
                1,
            ),
            (square(5, 2, 4), window([2, 9, 9], [5, 5], [2; 4]), 2, 1, 1),
            (
                wide(3, 4, 16),
                window([5, 6, 7], [3, 3], [1, 0, 0, 2]),
                3,
                1,
                2,
            ),
            (
                wide(5, 2, 4),
                window([3, 9, 8], [5, 5], [2, 1, 0, 2]),
                2,
                1,
                1,
            ),
            (wide(5, 2, 4), window([4, 6, 6], [5, 5], [2; 4]), 4, 2, 1),
        ];
        for (shape, w, co, groups, copies) in cases {
            patch_rows_match_plain_rows(shape, &w, (co, groups, copies));
        }
        // Not square: a strided height, a kernel of another height.
        let shape = square(3, 4, 16);
        let strided = Window {
            stride: [2, 1],
            ..window([3, 8, 8], [3, 3], [1; 4])
        };
        for w in [strided, window([3, 8, 8], [1, 3], [0, 1, 0, 1])] {
            assert!(!fits_patch(shape, &w), "{w:?}");
            let rows = conv(shape, &w, 2, 1, 1);
            let plain = MacShape::plain(1, 27);
            assert_eq!(
                products(&rows, shape),
                products(&conv(plain, &w, 2, 1, 1), plain)
            );
        }
        // Dense layers fill every slot of a wide square row, the spare ones included.
        for shape in [wide(5, 2, 4), wide(3, 4, 16)] {
            dense_rows_match_plain_rows(shape);
        }
    }

    #[test]
    fn other_convolutions_and_dense_layers_use_one_group_of_a_patch_shape() {
        let shape = MacShape {
            groups: 4,
            width: 30,
            patch: 5,
            tile: false,
            lines: 1,
        };
        let strided = Window {
            input: [2, 8, 8],
            kernel: [3, 3],
            stride: [1, 2],
            pads: [1, 1, 1, 1],
            dilation: [1, 1],
        };
        for w in [
            strided,
            Window {
                kernel: [5, 5],
                ..strided
            },
        ] {
            assert!(!fits_patch(shape, &w));
            let rows = conv(shape, &w, 3, 1, 2);
            assert_eq!(rows.len(), conv_rows(shape, &w, 3, 1, 2));
            let plain = MacShape::plain(1, 30);
            assert_eq!(
                products(&rows, shape),
                products(&conv(plain, &w, 3, 1, 2), plain)
            );
        }
        dense_rows_match_plain_rows(shape);
        // A width that is not a multiple of the kernel's never gets patch rows.
        let odd = MacShape { width: 31, ..shape };
        assert!(!fits_patch(
            odd,
            &Window {
                kernel: [5, 5],
                stride: [1, 1],
                ..strided
            }
        ));
    }
}
