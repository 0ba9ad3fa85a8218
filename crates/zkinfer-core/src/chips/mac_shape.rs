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
//! weights, so an input is copied once for `G` neurons. Only the columns differ between the
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
}

impl MacShape {
    /// A plain shape: `groups` groups of `width` input cells each.
    pub const fn plain(groups: usize, width: usize) -> Self {
        MacShape {
            groups,
            width,
            patch: 0,
            tile: false,
        }
    }

    /// Kernel rows per MAC row in a patch shape (0 in a plain one).
    pub const fn segments(&self) -> usize {
        match self.patch {
            0 => 0,
            k => self.width / k,
        }
    }

    /// Input cells one kernel row of a patch shape spans (`K + G − 1`).
    pub const fn segment_len(&self) -> usize {
        self.patch + self.groups - 1
    }

    /// Input cells (copy-enabled columns) per row.
    pub const fn cells(&self) -> usize {
        match (self.tile, self.patch) {
            (true, _) => self.width,
            (false, 0) => self.groups * self.width,
            _ => self.segments() * self.segment_len(),
        }
    }

    /// The input cell group `g` multiplies with weight `i`.
    pub const fn cell(&self, g: usize, i: usize) -> usize {
        match (self.tile, self.patch) {
            (true, _) => i,
            (false, 0) => g * self.width + i,
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
    fn tile_groups_read_the_same_cells() {
        let s = MacShape {
            tile: true,
            ..MacShape::plain(4, 31)
        };
        assert_eq!((s.cells(), s.free_groups(), s.weight_sets()), (31, 1, 4));
        assert_eq!(s.cell(3, 7), s.cell(0, 7));
    }
}
