//! ONNX protobuf builders shared by the frontend tests.

use tract_onnx::pb::{
    tensor_shape_proto::{dimension, Dimension},
    type_proto, TensorShapeProto, TypeProto, ValueInfoProto,
};

/// A float tensor value of fixed dimensions.
pub fn value(name: &str, dims: &[i64]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(dimension::Value::DimValue(*d)),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: 1,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}
