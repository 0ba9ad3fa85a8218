//! Row plans of the MAC chip: which input feeds which slot, for dense and convolution layers.

use super::mac::{MacRowPlan, XSource};
use super::mac_shape::MacShape;
use crate::geometry::Window;

/// Rows for `filters` weight rows of `k` weights applied to `items` (batch rows or output
/// positions): one row per (filter, block of items, chunk of the shape's weights), a block
/// holding as many items as the shape has [free groups](MacShape::free_groups). Blocks after
/// a filter's first reuse the first block's weights. `source(filter, item, t)` feeds weight
/// `t` of an item; `output(filter, item)` numbers the result.
fn blocked(
    shape: MacShape,
    filters: usize,
    items: usize,
    k: usize,
    source: impl Fn(usize, usize, usize) -> XSource,
    output: impl Fn(usize, usize) -> usize,
) -> Vec<MacRowPlan> {
    let (free, width) = (shape.free_groups().max(1), shape.width.max(1));
    let chunks = k.div_ceil(width);
    let blocks = items.div_ceil(free);
    let mut rows = Vec::with_capacity(filters * blocks * chunks);
    for f in 0..filters {
        let filter_start = rows.len();
        for b in 0..blocks {
            for c in 0..chunks {
                let mut x = vec![XSource::Zero; shape.cells()];
                let mut outs = vec![None; shape.groups];
                for g in 0..free {
                    let item = b * free + g;
                    if item >= items {
                        continue;
                    }
                    for i in 0..width.min(k.saturating_sub(c * width)) {
                        x[shape.cell(g, i)] = source(f, item, c * width + i);
                    }
                    if c + 1 == chunks {
                        outs[g] = Some(output(f, item));
                    }
                }
                rows.push(MacRowPlan {
                    first: c == 0,
                    x,
                    reuse: (b > 0).then_some(filter_start + c),
                    outputs: outs,
                    filter: f,
                    span: 1,
                    offset: c * width,
                    weights: width.min(k - c * width),
                });
            }
        }
    }
    rows
}

/// Tile rows (a tile shape): for every item, blocks of up to `per_block` filters that read
/// the item's inputs from the same cells (group `g` computes the block's filter `g`), one row
/// per chunk of `k` weights. Nothing is reused: the weights are fixed cells of every row.
fn tiled(
    shape: MacShape,
    per_block: usize,
    (filters, items, k): (usize, usize, usize),
    source: impl Fn(usize, usize, usize) -> XSource,
    output: impl Fn(usize, usize) -> usize,
) -> Vec<MacRowPlan> {
    let (per_block, width) = (per_block.clamp(1, shape.groups.max(1)), shape.width.max(1));
    let chunks = k.div_ceil(width);
    let mut rows = Vec::with_capacity(items * filters.div_ceil(per_block) * chunks);
    for item in 0..items {
        for f0 in (0..filters).step_by(per_block) {
            let span = per_block.min(filters - f0);
            for c in 0..chunks {
                let mut x = vec![XSource::Zero; shape.cells()];
                for i in 0..width.min(k - c * width) {
                    x[shape.cell(0, i)] = source(f0, item, c * width + i);
                }
                let last = c + 1 == chunks;
                rows.push(MacRowPlan {
                    first: c == 0,
                    x,
                    reuse: None,
                    outputs: (0..shape.groups)
                        .map(|g| (last && g < span).then(|| output(f0 + g, item)))
                        .collect(),
                    filter: f0,
                    span,
                    offset: c * width,
                    weights: width.min(k - c * width),
                });
            }
        }
    }
    rows
}

/// Dense layer over `batch` rows of `inputs` values; output `j` of row `b` is output index
/// `b * outputs + j`.
pub fn dense(shape: MacShape, inputs: usize, outputs: usize, batch: usize) -> Vec<MacRowPlan> {
    if shape.tile {
        return tiled(
            shape,
            shape.groups,
            (outputs, batch, inputs),
            |_, row, n| XSource::Input(row * inputs + n),
            |j, row| row * outputs + j,
        );
    }
    blocked(
        shape,
        outputs,
        batch,
        inputs,
        |_, row, n| XSource::Input(row * inputs + n),
        |j, row| row * outputs + j,
    )
}

/// Rows of a dense layer without building the plan.
pub fn dense_rows(shape: MacShape, inputs: usize, outputs: usize, batch: usize) -> usize {
    let chunks = inputs.div_ceil(shape.width.max(1));
    match shape.tile {
        true => batch * outputs.div_ceil(shape.groups.max(1)) * chunks,
        false => outputs * batch.div_ceil(shape.free_groups().max(1)) * chunks,
    }
}

/// Filters a tile row of a convolution holds: the shape's groups, or one for a grouped
/// convolution (its filters read different channels).
fn tile_filters(shape: MacShape, groups: usize) -> usize {
    match groups {
        1 => shape.groups,
        _ => 1,
    }
}

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

/// Blocks of a patch convolution's filter, in row order: `lines × columns` positions each.
fn patch_blocks(shape: MacShape, [oh, ow]: [usize; 2], copies: usize) -> Vec<Block> {
    let (lines, cols) = (shape.lines.max(1), shape.columns().max(1));
    let (down, across) = (oh.div_ceil(lines), ow.div_ceil(cols));
    (0..copies.max(1) * down * across)
        .map(|b| Block {
            copy: b / (down * across),
            oy: b / across % down * lines,
            ox: b % across * cols,
        })
        .collect()
}

/// Convolution (`groups` channel groups) over `copies` inferences side by side (input `c`
/// starts at `c * input_len`): items are (inference, output position) pairs, so a filter's
/// weights serve every inference; taps in the padding read the constant zero. A convolution
/// that [fits the patch shape](fits_patch) gets patch rows.
pub fn conv(
    shape: MacShape,
    window: &Window,
    out_channels: usize,
    groups: usize,
    copies: usize,
) -> Vec<MacRowPlan> {
    if fits_patch(shape, window) {
        return patch_conv(shape, window, out_channels, groups, copies);
    }
    let positions = window.positions();
    let input_len = window.input.iter().product::<usize>();
    let cin = window.input[0] / groups.max(1);
    let source = |co: usize, item: usize, t: usize| {
        let (copy, pos) = (item / positions.max(1), item % positions.max(1));
        let first = crate::ir::conv_first_channel(window.input[0], out_channels, groups, co);
        window
            .group_tap(pos, t, first)
            .map_or(XSource::Zero, |i| XSource::Input(copy * input_len + i))
    };
    let output = |co: usize, item: usize| {
        let (copy, pos) = (item / positions.max(1), item % positions.max(1));
        copy * out_channels * positions + co * positions + pos
    };
    let (items, k) = (positions * copies.max(1), cin * window.area());
    match shape.tile {
        true => tiled(
            shape,
            tile_filters(shape, groups),
            (out_channels, items, k),
            source,
            output,
        ),
        false => blocked(shape, out_channels, items, k, source, output),
    }
}

/// Patch rows of a convolution: a block is `H × X` neighbouring positions of one inference's
/// output (`H = 1` in a flat patch), a row's weights are `R` kernel rows `(channel, ky)`, and
/// the input lines those kernel rows meet are laid out once, `K + X − 1` cells each (in a
/// square patch, a channel's `H + K − 1` lines once for all its kernel rows). Groups past the
/// output's edge read the cells after it (or zero) and their accumulators are not outputs.
fn patch_conv(
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

/// Rows of a conv layer over `copies` inferences without building the plan.
pub fn conv_rows(
    shape: MacShape,
    window: &Window,
    out_channels: usize,
    groups: usize,
    copies: usize,
) -> usize {
    let k = window.input[0] / groups.max(1) * window.area();
    let chunks = k.div_ceil(chunk_len(shape, window).max(1));
    let items = window.positions() * copies.max(1);
    if shape.tile {
        return items * out_channels.div_ceil(tile_filters(shape, groups)) * chunks;
    }
    let blocks = if fits_patch(shape, window) {
        let [oh, ow] = window.output_hw().unwrap_or([0, 0]);
        copies.max(1) * oh.div_ceil(shape.lines.max(1)) * ow.div_ceil(shape.columns().max(1))
    } else {
        items.div_ceil(shape.free_groups().max(1))
    };
    out_channels * blocks * chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_plan_reuses_first_block() {
        let w = Window {
            input: [2, 4, 4],
            kernel: [3, 3],
            stride: [1, 1],
            pads: [1, 1, 1, 1],
            dilation: [1, 1],
        };
        let plan = conv(MacShape::plain(2, 31), &w, 3, 1, 1);
        assert_eq!(plan.len(), conv_rows(MacShape::plain(2, 31), &w, 3, 1, 1));
        // 18 weights fit one chunk; 16 positions in 8 blocks of 2.
        assert_eq!(plan.len(), 3 * 8);
        assert_eq!(plan[0].reuse, None);
        assert_eq!(plan[1].reuse, Some(0));
        assert_eq!(plan[8].reuse, None);
        assert_eq!(plan[9].reuse, Some(8));
        // Position 0 at kernel (0, 0) reads padding.
        assert_eq!(plan[0].x[0], XSource::Zero);
        assert_eq!(plan[0].x[4], XSource::Input(0));
        let outputs: usize = plan
            .iter()
            .map(|r| r.outputs.iter().flatten().count())
            .sum();
        assert_eq!(outputs, 3 * 16);
    }

    /// Every output's (weight index, input) products, read through `shape`'s cells.
    #[allow(clippy::type_complexity)] // (output, [(filter, weight index, input)])
    fn products(plan: &[MacRowPlan], shape: MacShape) -> Vec<(usize, Vec<(usize, usize, usize)>)> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < plan.len() {
            let end = (start + 1..plan.len())
                .find(|&r| plan[r].first)
                .unwrap_or(plan.len());
            for g in 0..shape.groups {
                let Some(o) = plan[end - 1].outputs[g] else {
                    continue;
                };
                let mut terms: Vec<(usize, usize, usize)> = plan[start..end]
                    .iter()
                    .flat_map(|p| {
                        let f = p
                            .group_filter(shape, g)
                            .expect("an output group has a filter");
                        (0..p.weights).filter_map(move |i| match p.x[shape.cell(g, i)] {
                            XSource::Input(j) => Some((f, p.offset + i, j)),
                            XSource::Zero => None,
                        })
                    })
                    .collect();
                terms.sort_unstable();
                out.push((o, terms));
            }
            start = end;
        }
        out.sort();
        out
    }

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
            let rows = dense(shape, 70, 5, 2);
            assert_eq!(rows.len(), dense_rows(shape, 70, 5, 2));
            let plain = MacShape::plain(1, 30);
            assert_eq!(
                products(&rows, shape),
                products(&dense(plain, 70, 5, 2), plain)
            );
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
        let rows = dense(shape, 70, 5, 2);
        assert_eq!(rows.len(), dense_rows(shape, 70, 5, 2));
        let plain = MacShape::plain(1, 30);
        assert_eq!(
            products(&rows, shape),
            products(&dense(plain, 70, 5, 2), plain)
        );
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

    #[test]
    fn tile_rows_compute_what_plain_rows_compute() {
        let tile = MacShape {
            tile: true,
            ..MacShape::plain(4, 31)
        };
        let plain = MacShape::plain(1, 31);
        // Dense layers (one and three batch rows, a neuron count that leaves spare groups).
        for (inputs, outputs, batch) in [(70, 10, 1), (31, 4, 3), (5, 1, 2)] {
            let rows = dense(tile, inputs, outputs, batch);
            assert_eq!(rows.len(), dense_rows(tile, inputs, outputs, batch));
            assert_eq!(
                products(&rows, tile),
                products(&dense(plain, inputs, outputs, batch), plain)
            );
        }
        // Convolutions: plain, and grouped (one filter per row: the filters read different
        // channels).
        let w = Window {
            input: [4, 5, 5],
            kernel: [3, 3],
            stride: [2, 1],
            pads: [1, 1, 1, 1],
            dilation: [1, 1],
        };
        for (co, groups) in [(6, 1), (4, 2)] {
            let rows = conv(tile, &w, co, groups, 2);
            assert_eq!(rows.len(), conv_rows(tile, &w, co, groups, 2));
            assert_eq!(
                products(&rows, tile),
                products(&conv(plain, &w, co, groups, 2), plain)
            );
        }
    }

    #[test]
    fn conv_plan_over_two_inferences_shares_filters() {
        let w = Window {
            input: [1, 3, 3],
            kernel: [2, 2],
            stride: [1, 1],
            pads: [0, 0, 0, 0],
            dilation: [1, 1],
        };
        // 4 positions per inference, 2 inferences: 8 items in 4 blocks per filter.
        let plan = conv(MacShape::plain(2, 31), &w, 2, 1, 2);
        assert_eq!(plan.len(), conv_rows(MacShape::plain(2, 31), &w, 2, 1, 2));
        assert_eq!(plan.len(), 2 * 4);
        // Block 2 holds the second inference's positions 0 and 1, reading its own input.
        assert_eq!(plan[2].reuse, Some(0));
        assert_eq!(plan[2].x[0], XSource::Input(9));
        assert_eq!(plan[2].outputs[0], Some(2 * 4));
        // The second filter's second inference, position 3.
        assert_eq!(plan[7].outputs[1], Some(2 * 4 + 4 + 3));
    }
}
