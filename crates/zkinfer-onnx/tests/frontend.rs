//! Frontend errors: unsupported ops and attributes are named, garbage is an error.

use tract_onnx::pb::{
    tensor_shape_proto::{dimension, Dimension},
    type_proto, AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, TensorShapeProto,
    TypeProto, ValueInfoProto,
};
use zkinfer_core::ir::Op;
use zkinfer_onnx::{load_bytes, lower_model, OnnxError};

fn value(name: &str, dims: &[i64]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: 1,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| Dimension {
                            value: Some(dimension::Value::DimValue(*d)),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    output: &str,
    attrs: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute: attrs,
        ..Default::default()
    }
}

fn floats(name: &str, dims: &[i64], v: Vec<f32>) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: 1,
        float_data: v,
        ..Default::default()
    }
}

fn model(nodes: Vec<NodeProto>, out: &str) -> ModelProto {
    ModelProto {
        graph: Some(GraphProto {
            node: nodes,
            initializer: vec![
                floats("w", &[3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
                floats("b", &[3], vec![0.5, 0.0, -0.5]),
            ],
            input: vec![value("x", &[1, 2])],
            output: vec![value(out, &[1, 3])],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn int_attr(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        i,
        ..Default::default()
    }
}

#[test]
fn gemm_relu_lowers_with_trans_b() {
    let m = model(
        vec![
            node(
                "Gemm",
                "fc",
                &["x", "w", "b"],
                "y",
                vec![int_attr("transB", 1)],
            ),
            node("Relu", "act", &["y"], "z", vec![]),
        ],
        "z",
    );
    let g = lower_model(&m).unwrap();
    assert_eq!(g.nodes.len(), 2);
    match &g.nodes[0].op {
        Op::Dense(d) => {
            assert_eq!((d.inputs, d.outputs), (2, 3));
            assert_eq!(d.weights, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
            assert_eq!(d.bias, vec![0.5, 0.0, -0.5]);
        }
        other => panic!("expected Dense, got {other:?}"),
    }
    assert_eq!(g.eval_f32(&[1.0, -1.0]).unwrap(), vec![0.0, 0.0, 0.0]);
    assert_eq!(g.eval_f32(&[1.0, 1.0]).unwrap(), vec![3.5, 7.0, 10.5]);
}

#[test]
fn unsupported_op_names_op_and_node() {
    let m = model(
        vec![
            node(
                "Gemm",
                "fc",
                &["x", "w", "b"],
                "y",
                vec![int_attr("transB", 1)],
            ),
            node("Sigmoid", "squash", &["y"], "z", vec![]),
        ],
        "z",
    );
    match lower_model(&m) {
        Err(e @ OnnxError::UnsupportedOp { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("Sigmoid") && msg.contains("squash"), "{msg}");
        }
        other => panic!("expected UnsupportedOp, got {other:?}"),
    }
}

#[test]
fn unsupported_attribute_names_op_node_and_attribute() {
    let m = model(
        vec![node(
            "Gemm",
            "fc",
            &["x", "w", "b"],
            "y",
            vec![int_attr("transB", 1), int_attr("foo", 1)],
        )],
        "y",
    );
    let msg = lower_model(&m).unwrap_err().to_string();
    assert!(
        msg.contains("Gemm") && msg.contains("fc") && msg.contains("foo"),
        "{msg}"
    );
}

#[test]
fn shape_mismatch_is_reported() {
    // Without transB, B = [3, 2] cannot multiply a [1, 2] input.
    let m = model(vec![node("Gemm", "fc", &["x", "w", "b"], "y", vec![])], "y");
    let msg = lower_model(&m).unwrap_err().to_string();
    assert!(msg.contains("fc") && msg.contains("[3, 2]"), "{msg}");
}

#[test]
fn garbage_bytes_are_a_parse_error() {
    assert!(matches!(
        load_bytes(b"definitely not onnx \xff\xff\xff"),
        Err(OnnxError::Parse(_)) | Err(OnnxError::Model(_))
    ));
    assert!(load_bytes(&[]).is_err());
}
