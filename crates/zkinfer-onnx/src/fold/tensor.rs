//! Typed constant tensors on `ndarray`, for folding: floats or integers (booleans are the
//! integers 0 and 1).

use ndarray::{ArrayD, IxDyn, Zip};

use crate::tensor::Const;

/// A constant tensor being folded.
#[derive(Clone, Debug, PartialEq)]
pub enum Tensor {
    /// Float values.
    F(ArrayD<f32>),
    /// Integer (or boolean) values.
    I(ArrayD<i64>),
}

/// Applies one generic array function to either kind of tensor.
macro_rules! each {
    ($t:expr, $a:ident => $body:expr) => {
        match $t {
            $crate::fold::tensor::Tensor::F($a) => $crate::fold::tensor::Tensor::F($body),
            $crate::fold::tensor::Tensor::I($a) => $crate::fold::tensor::Tensor::I($body),
        }
    };
}
pub(crate) use each;

impl Tensor {
    /// The tensor of a constant.
    pub fn from_const(c: &Const) -> Result<Tensor, String> {
        let shape = IxDyn(&c.shape);
        let bad = |e: ndarray::ShapeError| format!("shape {:?}: {e}", c.shape);
        Ok(if c.floats.is_empty() {
            Tensor::I(ArrayD::from_shape_vec(shape, c.ints.clone()).map_err(bad)?)
        } else {
            Tensor::F(ArrayD::from_shape_vec(shape, c.floats.clone()).map_err(bad)?)
        })
    }

    /// The tensor as a constant.
    pub fn into_const(self) -> Const {
        let shape = self.shape().to_vec();
        match self {
            Tensor::F(a) => Const {
                shape,
                floats: a.iter().copied().collect(),
                ints: Vec::new(),
            },
            Tensor::I(a) => Const {
                shape,
                floats: Vec::new(),
                ints: a.iter().copied().collect(),
            },
        }
    }

    /// Shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Tensor::F(a) => a.shape(),
            Tensor::I(a) => a.shape(),
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// The values as floats.
    pub fn floats(&self) -> ArrayD<f32> {
        match self {
            Tensor::F(a) => a.clone(),
            Tensor::I(a) => a.mapv(|v| v as f32),
        }
    }

    /// The values as integers (floats truncated toward zero, saturating).
    pub fn ints(&self) -> ArrayD<i64> {
        match self {
            Tensor::F(a) => a.mapv(|v| v as i64),
            Tensor::I(a) => a.clone(),
        }
    }

    /// The values as a flat list of integers.
    pub fn int_list(&self) -> Vec<i64> {
        self.ints().iter().copied().collect()
    }

    /// Whether the values are integers.
    pub fn is_int(&self) -> bool {
        matches!(self, Tensor::I(_))
    }

    /// An integer vector (shapes, axes, indices).
    pub fn vector(values: Vec<i64>) -> Tensor {
        Tensor::I(ndarray::Array1::from(values).into_dyn())
    }
}

/// The numpy broadcast of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let shape = zkinfer_core::ir::gather::broadcast_shape(a, b)
        .ok_or_else(|| format!("shapes {a:?} and {b:?} do not broadcast"))?;
    crate::layout::check_size(&shape)?;
    Ok(shape)
}

/// `a` broadcast to `shape`, owned.
pub fn broadcast<T: Clone>(a: &ArrayD<T>, shape: &[usize]) -> Result<ArrayD<T>, String> {
    a.broadcast(IxDyn(shape))
        .map(|v| v.to_owned())
        .ok_or_else(|| format!("shape {:?} does not broadcast to {shape:?}", a.shape()))
}

/// `f` applied elementwise to two arrays broadcast together.
pub fn zip_with<A: Clone, B: Clone, C>(
    a: &ArrayD<A>,
    b: &ArrayD<B>,
    mut f: impl FnMut(A, B) -> C,
) -> Result<ArrayD<C>, String> {
    let shape = broadcast_shape(a.shape(), b.shape())?;
    let (a, b) = (broadcast(a, &shape)?, broadcast(b, &shape)?);
    Ok(Zip::from(&a)
        .and(&b)
        .map_collect(|x, y| f(x.clone(), y.clone())))
}
