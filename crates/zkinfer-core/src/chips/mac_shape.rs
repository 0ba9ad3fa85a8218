//! Where a MAC row's input slots sit: the shape shared by both MAC chips and their row plans.
//!
//! A row holds `G` input groups that each multiply the row's `P` weights. In a plain shape
//! every group has its own `P` input cells (`G · P` copy-enabled columns). In a **patch**
//! shape of kernel width `K` the row's weights are `R = P / K` kernel rows of `K` taps, and
//! the groups are `G` neighbouring output positions of a stride-1 convolution: group `g`
//! reads tap `kx` of kernel row `r` from cell `r · (K + G − 1) + g + kx`, so each kernel row's
//! `K + G − 1` input cells are stored once and shared by every group (`R · (K + G − 1)`
//! columns instead of `G · R · K`). In a **tile** shape (public weights only) the groups are `G`
//! filters (neurons) of one item: every group reads the same `P` input cells with its own
//! weights, so an input is copied once for `G` neurons. A **square patch** of `H` lines also
//! shares cells between output lines: its groups are an `H × X` block of positions
//! (`X = G / H`), its kernel rows come in whole channels (`K` rows of `K` taps each), and
//! each channel's `(H + K − 1) × (X + K − 1)` input cells are stored once, so neighbouring
//! lines share `K − 1` of their `K` kernel rows' cells. Only the columns differ between the
//! shapes; the gates read a slot's cell through [`MacShape::cell`].

/// The column shape of a MAC row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MacShape {
    /// Input groups (`G`).
    pub groups: usize,
    /// Weights per row (`P`; a multiple of `patch` in a patch shape).
    pub width: usize,
    /// Kernel width `K` of a patch shape, or 0 for a plain one.
    pub patch: usize,
    /// Whether the groups are filters sharing one item's inputs (a tile shape).
    pub tile: bool,
    /// Output lines of a square patch shape (`H`), or 1: the groups are `H` lines of
    /// `G / H` neighbouring positions.
    pub lines: usize,
}

impl MacShape {
    /// A plain shape: `groups` groups of `width` input cells each.
    pub const fn plain(groups: usize, width: usize) -> Self {
        MacShape {
            groups,
            width,
            patch: 0,
            tile: false,
            lines: 1,
        }
    }

    /// Whether this is a square patch shape (more than one output line per row).
    pub const fn square(&self) -> bool {
        self.patch > 0 && self.lines > 1
    }

    /// Neighbouring positions per output line (`X`): the groups, or `G / H` in a square patch.
    pub const fn columns(&self) -> usize {
        match self.square() {
            true => self.groups / self.lines,
            false => self.groups,
        }
    }

    /// Whole channels per row of a square patch shape (`⌊P / K²⌋`; 0 otherwise).
    pub const fn channels(&self) -> usize {
        match self.square() {
            true => self.width / (self.patch * self.patch),
            false => 0,
        }
    }

    /// Input cells one channel of a square patch spans (`(H + K − 1) · (X + K − 1)`).
    pub const fn channel_len(&self) -> usize {
        (self.lines + self.patch - 1) * self.segment_len()
    }

    /// Kernel rows per MAC row in a patch shape (0 in a plain one): whole channels' in a
    /// square one.
    pub const fn segments(&self) -> usize {
        match self.patch {
            0 => 0,
            k if self.square() => self.channels() * k,
            k => self.width / k,
        }
    }

    /// Slots of a square patch row past its whole channels (`P − ⌊P / K²⌋ · K²`): a
    /// convolution leaves them empty (weight 0), a dense layer's row fills them. They read the
    /// last cells of the last channel's last input line, which no slot of group 0 reads
    /// otherwise (a layout keeps them within that line).
    pub const fn spare_slots(&self) -> usize {
        match self.square() {
            true => self.width - self.segments() * self.patch,
            false => 0,
        }
    }

    /// Input cells one kernel row (one input line) of a patch shape spans (`K + X − 1`).
    pub const fn segment_len(&self) -> usize {
        self.patch + self.columns() - 1
    }

    /// Input cells (copy-enabled columns) per row.
    pub const fn cells(&self) -> usize {
        match (self.tile, self.patch) {
            (true, _) => self.width,
            (false, 0) => self.groups * self.width,
            _ if self.square() => self.channels() * self.channel_len(),
            _ => self.segments() * self.segment_len(),
        }
    }

    /// The input cell group `g` multiplies with weight `i`.
    pub const fn cell(&self, g: usize, i: usize) -> usize {
        match (self.tile, self.patch) {
            (true, _) => i,
            (false, 0) => g * self.width + i,
            (false, _) if self.square() && i >= self.width - self.spare_slots() => {
                self.cells() - (self.width - i)
            }
            (false, k) if self.square() => {
                let (x, s) = (self.columns(), i / k);
                (s / k) * self.channel_len() + (g / x + s % k) * self.segment_len() + g % x + i % k
            }
            (false, k) => (i / k) * self.segment_len() + g + i % k,
        }
    }

    /// Groups a row can give items with unrelated inputs (a dense layer's batch rows, or the
    /// positions of a convolution a patch does not fit): every group in a plain shape, one in
    /// a patch or tile shape, where the groups' cells overlap.
    pub const fn free_groups(&self) -> usize {
        match (self.tile, self.patch) {
            (false, 0) => self.groups,
            _ => 1,
        }
    }

    /// Weight sets a row holds: one per group in a tile shape (each group is its own
    /// filter), one shared by every group otherwise.
    pub const fn weight_sets(&self) -> usize {
        match self.tile {
            true => self.groups,
            false => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_cells_are_group_major() {
        let s = MacShape::plain(2, 31);
        assert_eq!(s.cells(), 62);
        assert_eq!(s.cell(1, 3), 34);
        assert_eq!(s.free_groups(), 2);
    }

    #[test]
    fn patch_groups_share_a_kernel_rows_cells() {
        let s = MacShape {
            groups: 4,
            width: 30,
            patch: 5,
            tile: false,
            lines: 1,
        };
        assert_eq!((s.segments(), s.segment_len(), s.cells()), (6, 8, 48));
        // Group 1 at tap 0 reads group 0's tap 1; kernel row 1 starts at cell 8.
        assert_eq!(s.cell(1, 0), s.cell(0, 1));
        assert_eq!(s.cell(0, 5), 8);
        assert_eq!(s.cell(3, 29), 47);
        // Every cell is read by some (group, weight) and group 0's weights read distinct cells.
        let mut read = vec![false; s.cells()];
        for g in 0..4 {
            for i in 0..30 {
                read[s.cell(g, i)] = true;
            }
        }
        assert!(read.iter().all(|r| *r));
        let mut own: Vec<usize> = (0..30).map(|i| s.cell(0, i)).collect();
        own.dedup();
        assert_eq!(own.len(), 30);
    }

    #[test]
    fn square_patch_lines_share_their_kernel_rows_cells() {
        // 4 × 4 positions, 3 × 3 kernels, 3 channels: each channel's 6 × 6 cells.
        let s = MacShape {
            groups: 16,
            width: 27,
            patch: 3,
            tile: false,
            lines: 4,
        };
        assert_eq!((s.columns(), s.channels(), s.channel_len()), (4, 3, 36));
        assert_eq!(s.cells(), 108);
        // Line 1 at ky = 0 reads line 0's ky = 1 cells; the next column's tap 0 its tap 1.
        assert_eq!(s.cell(4, 0), s.cell(0, 3));
        assert_eq!(s.cell(1, 0), s.cell(0, 1));
        // Channel 1 starts after channel 0's 36 cells; the last group's last tap ends them.
        assert_eq!(s.cell(0, 9), 36);
        assert_eq!(s.cell(15, 26), 107);
        let mut read = vec![false; s.cells()];
        for g in 0..16 {
            let own: std::collections::BTreeSet<usize> = (0..27).map(|i| s.cell(g, i)).collect();
            assert_eq!(own.len(), 27, "group {g} reads distinct cells");
            own.into_iter().for_each(|c| read[c] = true);
        }
        assert!(read.iter().all(|r| *r));
        // A row wider than its whole channels: 5 × 5 kernels, 2 × 2 positions, 30 slots.
        let wide = MacShape {
            groups: 4,
            width: 30,
            patch: 5,
            tile: false,
            lines: 2,
        };
        assert_eq!(
            (wide.channels(), wide.segments(), wide.spare_slots()),
            (1, 5, 5)
        );
        assert_eq!(wide.cells(), 36);
        // The spare slots read the last line's last five cells; group 0 reads 30 distinct cells.
        assert_eq!(
            (25..30).map(|i| wide.cell(0, i)).collect::<Vec<_>>(),
            [31, 32, 33, 34, 35]
        );
        let own: std::collections::BTreeSet<usize> = (0..30).map(|i| wide.cell(0, i)).collect();
        assert_eq!(own.len(), 30);
        assert_eq!(wide.cell(3, 24), 35);
        // One line is the flat patch shape.
        let flat = MacShape { lines: 1, ..s };
        assert_eq!(flat.cells(), 9 * 18);
        // Kernel row 1 (the line after the first), group 3, tap 2.
        assert_eq!(flat.cell(3, 5), 18 + 3 + 2);
    }

    #[test]
    fn tile_groups_read_the_same_cells() {
        let s = MacShape {
            tile: true,
            ..MacShape::plain(4, 31)
        };
        assert_eq!((s.cells(), s.free_groups(), s.weight_sets()), (31, 1, 4));
        assert_eq!(s.cell(3, 7), s.cell(0, 7));
    }
}
