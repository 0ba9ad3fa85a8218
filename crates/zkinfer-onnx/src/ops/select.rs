//! Per-axis index selection: the gathers of Slice and Pad.

use zkinfer_core::ir::gather::{ravel, strides, unravel};
use zkinfer_core::ir::{Entry, Gather};

/// The gather whose output axis `d` reads input positions `picks[d]` (`None`: the constant
/// `fill`) of an input of shape `shape`.
pub fn select(shape: &[usize], picks: &[Vec<Option<usize>>], fill: f32) -> Gather {
    let out: Vec<usize> = picks.iter().map(Vec::len).collect();
    let st = strides(shape);
    let entries = (0..out.iter().product::<usize>())
        .map(|flat| {
            let idx = unravel(flat, &out);
            let src: Option<Vec<usize>> = idx.iter().zip(picks).map(|(i, p)| p[*i]).collect();
            match src {
                Some(s) => Entry::Value {
                    input: 0,
                    index: ravel(&s, &st),
                },
                None => Entry::Const(fill),
            }
        })
        .collect();
    Gather {
        entries,
        shape: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_and_fills() {
        let g = select(&[2, 2], &[vec![Some(1)], vec![None, Some(0), Some(1)]], 9.0);
        assert_eq!(g.shape, vec![1, 3]);
        assert_eq!(g.eval(&[&[1.0, 2.0, 3.0, 4.0]]), vec![9.0, 3.0, 4.0]);
    }
}
