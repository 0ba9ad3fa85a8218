//! Column layouts: how many MAC input groups, weights per MAC row and Poseidon lanes a circuit
//! has.
//!
//! halo2's `Circuit::configure` takes no runtime parameters, so each layout of the menu
//! [`LAYOUTS`] is its own circuit type, [`Shaped<G, L, W>`]; the spec records the layout
//! (`circuit.mac_groups`, `circuit.hash_lanes`, `circuit.mac_width`) and every use of a circuit
//! dispatches on it ([`with_shape!`](crate::with_shape)). The planner picks the layout per
//! model: a batch-1 dense model wastes a second input group, a convolution fills it; a small
//! model hashes its weights in one lane, a large one needs six to keep `k` down; a model whose
//! `k` is set by other chips than the MAC (activations, rescaling) takes half-width MAC rows,
//! which halves the MAC's columns at the price of more rows and twice the hashed elements.
//! Four input groups produce four convolution outputs per MAC row, so those layouts rescale
//! two neurons per row ([`Layout::rescale_lanes`]): a CNN's MAC and rescale rows then both
//! halve, and its `k` drops by one. A layout with no hash lanes (`1x0`, `2x0`, `4x0`,
//! `1x0w16`) holds public weights in fixed columns and commits nothing.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};

use super::{
    synthesize::synthesize, CircuitConfig, CircuitPlan, ModelCircuit, NoEdit, WitnessEdit,
    MAC_WIDTH,
};
use crate::chips::mac_shape::MacShape;
use crate::spec::{CircuitSpec, ModelSpec};
use crate::CoreError;

/// A circuit's column layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    /// Input groups per MAC row (output positions sharing a row's weights).
    pub mac_groups: usize,
    /// Parallel Poseidon lanes hashing the weights.
    pub hash_lanes: usize,
    /// Weights per MAC row (packed into one hashed element).
    pub mac_width: usize,
    /// Kernel width of patch rows ([`MacShape`]), or 0 for plain rows.
    pub mac_patch: usize,
    /// Tile rows: the groups are filters sharing one item's inputs (public weights only).
    pub mac_tile: bool,
    /// Neurons rescaled per row (see [`Layout::default_lanes`]; more for wide values, whose
    /// rescales take two rows).
    pub rescale_lanes: usize,
    /// Output lines of square patch rows ([`MacShape::lines`]), or 1.
    pub mac_lines: usize,
}

/// Half-width MAC rows: 16 weights (a 16-value dot product in one row).
pub const HALF_MAC_WIDTH: usize = 16;

/// The layouts this build supports (one circuit type each).
pub const LAYOUTS: [Layout; 30] = [
    Layout::new(1, 1),
    Layout::new(1, 2),
    Layout::new(1, 6),
    Layout::new(2, 1),
    Layout::new(2, 2),
    Layout::new(2, 6),
    Layout::new(1, 1).with_width(HALF_MAC_WIDTH),
    Layout::new(1, 2).with_width(HALF_MAC_WIDTH),
    Layout::new(4, 1),
    Layout::new(4, 3),
    Layout::new(1, 0),
    Layout::new(2, 0),
    Layout::new(4, 0),
    Layout::new(1, 0).with_width(HALF_MAC_WIDTH),
    Layout::new(4, 3).with_patch(5),
    Layout::new(4, 1).with_patch(3),
    Layout::new(4, 0).with_patch(5),
    Layout::new(4, 0).with_patch(3),
    Layout::new(8, 1).with_patch(3),
    Layout::new(8, 0).with_patch(3),
    Layout::new(4, 0).with_tile(),
    Layout::new(8, 0).with_tile(),
    Layout::new(4, 3).with_patch(5).with_lanes(4),
    Layout::new(4, 1).with_patch(3).with_lanes(4),
    Layout::new(1, 1).with_width(HALF_MAC_WIDTH).with_lanes(2),
    Layout::new(16, 1).with_patch(3),
    Layout::new(16, 0).with_tile(),
    Layout::new(16, 1).with_patch(3).with_lines(4),
    Layout::new(1, 4).with_width(HALF_MAC_WIDTH),
    Layout::new(4, 3).with_patch(5).with_lines(2).with_lanes(4),
];

/// The layout of specs written before layouts were chosen per model.
pub const DEFAULT_LAYOUT: Layout = Layout::new(2, 6);

impl Layout {
    /// A layout of full-width ([`MAC_WIDTH`]) MAC rows (supported or not: see
    /// [`Layout::is_supported`]).
    pub const fn new(mac_groups: usize, hash_lanes: usize) -> Self {
        Layout {
            mac_groups,
            hash_lanes,
            mac_width: MAC_WIDTH,
            mac_patch: 0,
            mac_tile: false,
            rescale_lanes: Self::default_lanes(mac_groups),
            mac_lines: 1,
        }
    }

    /// Neurons rescaled per row unless a layout says otherwise: one per two MAC input groups
    /// (at least one), so the rescale rows keep pace with the outputs the MAC rows produce.
    pub const fn default_lanes(mac_groups: usize) -> usize {
        if mac_groups > 2 {
            mac_groups / 2
        } else {
            1
        }
    }

    /// The same layout with `lanes` rescale lanes.
    pub const fn with_lanes(self, lanes: usize) -> Self {
        Layout {
            rescale_lanes: lanes,
            ..self
        }
    }

    /// The same layout with `mac_width` weights per MAC row.
    pub const fn with_width(self, mac_width: usize) -> Self {
        Layout { mac_width, ..self }
    }

    /// The same layout with patch rows for kernels `patch` wide: as many whole kernel rows
    /// per MAC row as [`MAC_WIDTH`] holds.
    pub const fn with_patch(self, patch: usize) -> Self {
        Layout {
            mac_patch: patch,
            mac_width: MAC_WIDTH / patch * patch,
            ..self
        }
    }

    /// The same patch layout with square patch rows of `lines` output lines. The rows keep
    /// their width: a convolution fills as many whole channels (`K × K` taps) as it holds and
    /// leaves the rest empty, a dense layer fills them all.
    pub const fn with_lines(self, lines: usize) -> Self {
        Layout {
            mac_lines: lines,
            ..self
        }
    }

    /// The same layout with tile rows: each row's groups are filters reading the same inputs
    /// with their own (public) weights.
    pub const fn with_tile(self) -> Self {
        Layout {
            mac_tile: true,
            ..self
        }
    }

    /// Where a MAC row's input cells sit.
    pub const fn shape(&self) -> MacShape {
        MacShape {
            groups: self.mac_groups,
            width: self.mac_width,
            patch: self.mac_patch,
            tile: self.mac_tile,
            lines: self.mac_lines,
        }
    }

    /// Neurons rescaled per row.
    pub const fn rescale_lanes(&self) -> usize {
        self.rescale_lanes
    }

    /// Writes the layout into a circuit spec (its `k` untouched).
    pub fn set(&self, c: &mut CircuitSpec) {
        c.mac_groups = self.mac_groups;
        c.mac_width = self.mac_width;
        c.mac_patch = self.mac_patch;
        c.mac_tile = self.mac_tile;
        c.mac_lines = match self.mac_lines {
            1 => 0,
            h => h,
        };
        c.hash_lanes = self.hash_lanes;
        c.rescale_lanes = match self.rescale_lanes == Self::default_lanes(self.mac_groups) {
            true => 0,
            false => self.rescale_lanes,
        };
    }

    /// Sets `spec` to this layout with the smallest `k` that holds its circuit.
    pub fn apply(self, spec: &mut ModelSpec) -> Result<(), CoreError> {
        self.set(&mut spec.circuit);
        spec.circuit.k = CircuitPlan::from_spec(spec).rows(spec).k()?;
        Ok(())
    }

    /// The layout a spec records.
    pub fn of(c: &CircuitSpec) -> Self {
        Layout {
            mac_groups: c.mac_groups,
            hash_lanes: c.hash_lanes,
            mac_width: c.mac_width,
            mac_patch: c.mac_patch,
            mac_tile: c.mac_tile,
            rescale_lanes: match c.rescale_lanes {
                0 => Self::default_lanes(c.mac_groups),
                r => r,
            },
            mac_lines: c.mac_lines.max(1),
        }
    }

    /// The supported layouts, as `1x1, 1x2, ...`.
    pub fn menu() -> String {
        LAYOUTS
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether the layout holds the weights in fixed columns (public weights): it has no
    /// hash lanes, since nothing is committed.
    pub const fn is_public(&self) -> bool {
        self.hash_lanes == 0
    }

    /// Whether this build has a circuit type for the layout.
    pub fn is_supported(&self) -> bool {
        LAYOUTS.contains(self)
    }
}

/// `GxL` (groups × lanes) for full-width MAC rows, `GxLwW` for `W` weights per row,
/// `GxLpK` for patch rows of kernels `K` wide (`GxLpKhH` for square patches of `H` lines),
/// `GxLt` for tile rows; then `rR` for `R` rescale lanes other than the default.
impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.mac_groups, self.hash_lanes)?;
        if self.mac_tile {
            write!(f, "t")?;
        } else if self.mac_patch > 0 {
            write!(f, "p{}", self.mac_patch)?;
            if self.mac_lines > 1 {
                write!(f, "h{}", self.mac_lines)?;
            }
        } else if self.mac_width != MAC_WIDTH {
            write!(f, "w{}", self.mac_width)?;
        }
        if self.rescale_lanes != Self::default_lanes(self.mac_groups) {
            write!(f, "r{}", self.rescale_lanes)?;
        }
        Ok(())
    }
}

/// Parses what [`Display`](fmt::Display) writes (`1x6`, `1x1w16`, `4x3p5`); the layout may be
/// unsupported.
impl FromStr for Layout {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "layout `{s}` is not GxL, GxLwW, GxLpK, GxLpKhH or GxLt, optionally followed \
                 by rR (e.g. 1x6, 1x1w16, 4x3p5, 16x1p3h4, 4x0t, 4x1p3r4)"
            )
        };
        if let Some((base, lanes)) = s.rsplit_once('r') {
            let lanes: usize = lanes.parse().map_err(|_| bad())?;
            let layout: Layout = base.parse().map_err(|_| bad())?;
            if lanes == 0 || layout.rescale_lanes != Self::default_lanes(layout.mac_groups) {
                return Err(bad());
            }
            return Ok(layout.with_lanes(lanes));
        }
        if let Some(gl) = s.strip_suffix('t') {
            let layout: Layout = gl.parse().map_err(|_| bad())?;
            return match layout == Layout::new(layout.mac_groups, layout.hash_lanes) {
                true => Ok(layout.with_tile()),
                false => Err(bad()),
            };
        }
        let (gl, suffix) = match s.find(['w', 'p']) {
            Some(at) => (&s[..at], Some(s.split_at(at + 1))),
            None => (s, None),
        };
        let (g, l) = gl.split_once('x').ok_or_else(bad)?;
        let n = |t: &str| t.trim().parse::<usize>().map_err(|_| bad());
        let layout = Layout::new(n(g)?, n(l)?);
        Ok(match suffix {
            Some((kind, v)) if kind.ends_with('w') => layout.with_width(n(v)?),
            Some((_, v)) => {
                let (k, h) = match v.split_once('h') {
                    Some((k, h)) => (n(k)?, n(h)?),
                    None => (n(v)?, 1),
                };
                match (k, h) {
                    (0, _) | (_, 0) => return Err(bad()),
                    (k, _) if k > MAC_WIDTH => return Err(bad()),
                    (_, 1) if v.contains('h') => return Err(bad()),
                    (k, 1) => layout.with_patch(k),
                    (k, h) => layout.with_patch(k).with_lines(h),
                }
            }
            None => layout,
        })
    }
}

/// The model circuit in layout `(G, L, W, P, T, R, H)`: `G` MAC input groups, `L` Poseidon
/// lanes, `W` weights per MAC row, patch rows for kernels `P` wide (0: plain rows), tile rows if
/// `T`, `R` rescale lanes, `H` output lines per patch row.
/// It carries the layout-free [`ModelCircuit`] and a witness edit (soundness tests corrupt
/// cells with it).
#[derive(Clone, Debug)]
pub struct Shaped<
    const G: usize,
    const L: usize,
    const W: usize,
    const P: usize,
    const T: bool,
    const R: usize,
    const H: usize,
> {
    /// Plan and witness.
    pub circuit: ModelCircuit,
    /// Changes to the witness before assignment ([`NoEdit`] for real proofs).
    pub edit: Arc<dyn WitnessEdit>,
}

impl<
        const G: usize,
        const L: usize,
        const W: usize,
        const P: usize,
        const T: bool,
        const R: usize,
        const H: usize,
    > Shaped<G, L, W, P, T, R, H>
{
    /// The layout of this circuit type.
    pub const LAYOUT: Layout = Layout {
        mac_groups: G,
        hash_lanes: L,
        mac_width: W,
        mac_patch: P,
        mac_tile: T,
        rescale_lanes: R,
        mac_lines: H,
    };

    /// The honest circuit.
    pub fn new(circuit: ModelCircuit) -> Self {
        Shaped {
            circuit,
            edit: Arc::new(NoEdit),
        }
    }
}

impl<
        const G: usize,
        const L: usize,
        const W: usize,
        const P: usize,
        const T: bool,
        const R: usize,
        const H: usize,
    > Circuit<Fp> for Shaped<G, L, W, P, T, R, H>
{
    type Config = CircuitConfig;
    type FloorPlanner = SimpleFloorPlanner;

    fn without_witnesses(&self) -> Self {
        Shaped::new(self.circuit.without_witnesses())
    }

    fn configure(meta: &mut ConstraintSystem<Fp>) -> CircuitConfig {
        CircuitConfig::configure(meta, Self::LAYOUT)
    }

    fn synthesize(&self, config: CircuitConfig, layouter: impl Layouter<Fp>) -> Result<(), Error> {
        if self.circuit.plan.layout != Self::LAYOUT {
            return Err(Error::Synthesis);
        }
        synthesize(&self.circuit, &config, layouter, self.edit.as_ref())
    }
}

/// Evaluates `$body` with `$S` bound to the circuit type of `$layout` (a [`Layout`]); an
/// unsupported layout evaluates `$unsupported` instead. The `(G, L, W, P, T, R, H)` list is
/// [`LAYOUTS`] (a test checks that they agree).
#[macro_export]
macro_rules! with_shape {
    (@menu $layout:expr, $S:ident => $body:expr, $unsupported:expr;
        $(($g:literal, $l:literal, $w:literal, $p:literal, $t:literal, $r:literal, $h:literal))*) => {{
        let layout: $crate::circuit::Layout = $layout;
        match (layout.mac_groups, layout.hash_lanes, layout.mac_width, layout.mac_patch,
            layout.mac_tile, layout.rescale_lanes, layout.mac_lines) {
            $(($g, $l, $w, $p, $t, $r, $h) => {
                type $S = $crate::circuit::Shaped<$g, $l, $w, $p, $t, $r, $h>;
                $body
            })*
            _ => $unsupported,
        }
    }};
    ($layout:expr, $S:ident => $body:expr, $unsupported:expr) => {
        $crate::with_shape!(@menu $layout, $S => $body, $unsupported;
            (1, 1, 31, 0, false, 1, 1) (1, 2, 31, 0, false, 1, 1) (1, 6, 31, 0, false, 1, 1)
            (2, 1, 31, 0, false, 1, 1) (2, 2, 31, 0, false, 1, 1) (2, 6, 31, 0, false, 1, 1)
            (1, 1, 16, 0, false, 1, 1) (1, 2, 16, 0, false, 1, 1) (4, 1, 31, 0, false, 2, 1)
            (4, 3, 31, 0, false, 2, 1) (1, 0, 31, 0, false, 1, 1) (2, 0, 31, 0, false, 1, 1)
            (4, 0, 31, 0, false, 2, 1) (1, 0, 16, 0, false, 1, 1)
            (4, 3, 30, 5, false, 2, 1) (4, 1, 30, 3, false, 2, 1) (4, 0, 30, 5, false, 2, 1)
            (4, 0, 30, 3, false, 2, 1) (8, 1, 30, 3, false, 4, 1) (8, 0, 30, 3, false, 4, 1)
            (4, 0, 31, 0, true, 2, 1) (8, 0, 31, 0, true, 4, 1)
            (4, 3, 30, 5, false, 4, 1) (4, 1, 30, 3, false, 4, 1) (1, 1, 16, 0, false, 2, 1)
            (16, 1, 30, 3, false, 8, 1) (16, 0, 31, 0, true, 8, 1)
            (16, 1, 30, 3, false, 8, 4) (1, 4, 16, 0, false, 1, 1) (4, 3, 30, 5, false, 4, 2))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_menu_layout_has_a_circuit_type() {
        for l in LAYOUTS {
            let counts = with_shape!(l, S => {
                let mut cs = ConstraintSystem::<Fp>::default();
                let c = S::configure(&mut cs);
                assert_eq!(S::LAYOUT, l);
                if l.mac_patch > 0 {
                    assert!(l.mac_width > 0 && l.mac_width % l.mac_patch == 0, "{l}");
                }
                // Square patches hold a whole channel, whole lines of groups, and their
                // spare slots within one input line.
                if l.mac_lines > 1 {
                    let s = l.shape();
                    assert!(s.channels() > 0 && l.mac_groups % l.mac_lines == 0, "{l}");
                    assert!(s.spare_slots() <= s.segment_len(), "{l}");
                }
                // Tiles hold a weight set per group: public weights only, plain cells.
                assert!(!l.mac_tile || (l.is_public() && l.mac_patch == 0), "{l}");
                (c.weights.x().len(), c.weights.acc().len(), c.weights.hash_lanes(), c.weights.width(), c.rescale.lanes.len())
            }, panic!("{l:?} has no type"));
            assert_eq!(
                counts,
                (
                    l.shape().cells(),
                    l.mac_groups,
                    l.hash_lanes,
                    l.mac_width,
                    l.rescale_lanes()
                )
            );
            assert_eq!(l.to_string().parse::<Layout>(), Ok(l));
        }
        assert!(!Layout::new(3, 6).is_supported());
        assert!(!with_shape!(Layout::new(3, 6), _S => true, false));
        assert!(!Layout::new(1, 1).with_width(8).is_supported());
        assert_eq!("2x6".parse::<Layout>(), Ok(DEFAULT_LAYOUT));
        assert_eq!(
            Layout::of(&crate::spec::CircuitSpec::unplanned()),
            DEFAULT_LAYOUT
        );
        assert_eq!(
            "1x2w16".parse::<Layout>(),
            Ok(Layout::new(1, 2).with_width(HALF_MAC_WIDTH))
        );
        assert_eq!(
            "4x3p5".parse::<Layout>(),
            Ok(Layout::new(4, 3).with_patch(5))
        );
        assert_eq!(Layout::new(4, 1).with_patch(3).mac_width, 30);
        assert_eq!("4x0t".parse::<Layout>(), Ok(Layout::new(4, 0).with_tile()));
        assert_eq!(
            "4x1p3r4".parse::<Layout>(),
            Ok(Layout::new(4, 1).with_patch(3).with_lanes(4))
        );
        assert_eq!(Layout::new(4, 1).with_patch(3).to_string(), "4x1p3");
        let square = Layout::new(16, 1).with_patch(3).with_lines(4);
        assert_eq!(
            (square.to_string().as_str(), square.mac_width),
            ("16x1p3h4", 30)
        );
        assert_eq!("16x1p3h4".parse::<Layout>(), Ok(square));
        for bad in [
            "",
            "2",
            "2x",
            "x6",
            "2x6w",
            "2y6",
            "1x1w16w2",
            "4x3p0",
            "4x3p",
            "4x3p5w2",
            "t",
            "4x0p3t",
            "4x0tt",
            "4x1p3r",
            "4x1p3r0",
            "4x1p3r4r4",
            "r4",
            "16x1p3h",
            "16x1p3h0",
            "16x1p3h1",
            "16x1h4",
            "16x1p0h4",
            "1x1p4294967296h2",
            "1x1p32",
        ] {
            assert!(bad.parse::<Layout>().is_err(), "{bad}");
        }
    }
}
