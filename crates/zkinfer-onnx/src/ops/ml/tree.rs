//! `TreeEnsembleClassifier` / `TreeEnsembleRegressor`: every internal node's test is a
//! comparison of one feature with its threshold (`x_f − t` through a 0/1 table); leaf `l` is
//! reached when every test on its path goes its way — `Σ ±c_i + b_l = 0` for the tests on
//! the path (a dense layer with weights ±1, then a 0/1 table); the scores are the sum of the
//! reached leaves' values (a dense layer). The trees (features, thresholds, directions, leaf
//! values) are the dense layers' weights and biases, private and committed.

use std::collections::HashMap;

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Dense, Op};
use zkinfer_core::spec::Function;

use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::OnnxError;

/// Most internal nodes and leaves an ensemble may have (each is a value of the circuit).
pub const MAX_NODES: usize = 4096;

/// One internal node: its feature, threshold and children (indices into the node list).
struct Branch {
    feature: usize,
    threshold: f32,
    yes: usize,
    no: usize,
}

/// The parsed ensemble: nodes by index, internal ones as branches, and the roots.
struct Ensemble {
    branches: HashMap<usize, Branch>,
    roots: Vec<usize>,
    /// Index of every (tree, node id).
    index: HashMap<(i64, i64), usize>,
    /// The comparison every branch makes (`BRANCH_LEQ`, …).
    mode: String,
}

fn list<'a>(attrs: &Attrs<'a>, name: &str) -> Result<&'a [i64], OnnxError> {
    attrs
        .ints(name)
        .ok_or_else(|| attrs.unsupported(format!("{name} is missing")))
}

fn parse(attrs: &Attrs<'_>) -> Result<Ensemble, OnnxError> {
    let (trees, ids) = (list(attrs, "nodes_treeids")?, list(attrs, "nodes_nodeids")?);
    let (features, yes, no) = (
        list(attrs, "nodes_featureids")?,
        list(attrs, "nodes_truenodeids")?,
        list(attrs, "nodes_falsenodeids")?,
    );
    let values = attrs.floats("nodes_values").unwrap_or(&[]);
    let modes = attrs.strings("nodes_modes").unwrap_or_default();
    let n = trees.len();
    if [
        ids.len(),
        features.len(),
        yes.len(),
        no.len(),
        values.len(),
        modes.len(),
    ] != [n; 6]
        || n > MAX_NODES
    {
        return Err(attrs.unsupported(format!(
            "node attributes of unequal lengths or more than {MAX_NODES} nodes"
        )));
    }
    let index: HashMap<(i64, i64), usize> = (0..n).map(|i| ((trees[i], ids[i]), i)).collect();
    let child = |i: usize, id: i64| {
        index
            .get(&(trees[i], id))
            .copied()
            .ok_or_else(|| attrs.unsupported(format!("node {id} of tree {} is missing", trees[i])))
    };
    let mut branches = HashMap::new();
    let mut mode = String::new();
    for i in 0..n {
        if modes[i] == "LEAF" {
            continue;
        }
        if !mode.is_empty() && mode != modes[i] {
            return Err(attrs.unsupported(format!(
                "branch modes {mode} and {} in one ensemble",
                modes[i]
            )));
        }
        mode = modes[i].clone();
        let feature =
            usize::try_from(features[i]).map_err(|_| attrs.unsupported("negative feature id"))?;
        branches.insert(
            i,
            Branch {
                feature,
                threshold: values[i],
                yes: child(i, yes[i])?,
                no: child(i, no[i])?,
            },
        );
    }
    let children: std::collections::HashSet<usize> =
        branches.values().flat_map(|b| [b.yes, b.no]).collect();
    let roots = (0..n).filter(|i| !children.contains(i)).collect();
    Ok(Ensemble {
        branches,
        roots,
        index,
        mode,
    })
}

/// The branches on a path to a leaf: branch index, whether its test holds.
type Path = Vec<(usize, bool)>;

/// Every leaf with the branches on its path.
fn paths(e: &Ensemble, attrs: &Attrs<'_>) -> Result<Vec<(usize, Path)>, OnnxError> {
    let mut out = Vec::new();
    let mut stack: Vec<(usize, Path)> = e.roots.iter().map(|r| (*r, Vec::new())).collect();
    while let Some((node, path)) = stack.pop() {
        if path.len() > MAX_NODES || out.len() > MAX_NODES {
            return Err(attrs.unsupported("the trees hold a cycle or too many leaves"));
        }
        match e.branches.get(&node) {
            Some(b) => {
                for (next, holds) in [(b.yes, true), (b.no, false)] {
                    let mut p = path.clone();
                    p.push((node, holds));
                    stack.push((next, p));
                }
            }
            None => out.push((node, path)),
        }
    }
    Ok(out)
}

/// The 0/1 value of every branch's test, in the order of `order`: `±(x_f − t)` as a dense
/// layer (one-hot feature weights, the threshold in the bias: both private), then a table.
fn tests(
    cx: &mut Context,
    name: &str,
    x: usize,
    e: &Ensemble,
    order: &[usize],
    attrs: &Attrs<'_>,
) -> Result<usize, OnnxError> {
    let features = cx.shape(x).last().copied().unwrap_or(0);
    // `x − t` for ≤ and >, `t − x` for < and ≥.
    let (sign, f) = match e.mode.as_str() {
        "BRANCH_LEQ" => (1.0, Function::NotPositive),
        "BRANCH_GT" => (1.0, Function::Positive),
        "BRANCH_LT" => (-1.0, Function::Positive),
        "BRANCH_GTE" => (-1.0, Function::NotPositive),
        other => return Err(attrs.unsupported(format!("branch mode {other} is not supported"))),
    };
    let n = order.len();
    let mut weights = vec![0.0f32; n * features];
    let mut bias = Vec::with_capacity(n);
    for (j, i) in order.iter().enumerate() {
        let b = &e.branches[i];
        if b.feature >= features {
            return Err(attrs.unsupported(format!("feature {} of {features}", b.feature)));
        }
        weights[j * features + b.feature] = sign;
        bias.push(-sign * b.threshold);
    }
    let margins = Dense {
        inputs: features,
        outputs: n,
        weights,
        bias,
        batch: 1,
    };
    let d = cx.push_value(
        format!("{name}/margins"),
        Op::Dense(margins),
        vec![x],
        vec![n],
    );
    Ok(cx.push_value(format!("{name}/tests"), Op::Activation(f), vec![d], vec![n]))
}

/// The attributes describing the trees' nodes, shared by both ensembles.
const NODE_ATTRIBUTES: [&str; 9] = [
    "nodes_falsenodeids",
    "nodes_featureids",
    "nodes_hitrates",
    "nodes_missing_value_tracks_true",
    "nodes_modes",
    "nodes_nodeids",
    "nodes_treeids",
    "nodes_truenodeids",
    "nodes_values",
];

/// The node attributes and an ensemble's own.
fn known<'a>(own: &[&'a str]) -> Vec<&'a str> {
    NODE_ATTRIBUTES
        .iter()
        .copied()
        .chain(own.iter().copied())
        .collect()
}

/// Lowers `TreeEnsembleClassifier` (one input row).
pub fn classifier(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&known(&[
        "base_values",
        "class_ids",
        "class_nodeids",
        "class_treeids",
        "class_weights",
        "classlabels_int64s",
        "classlabels_strings",
        "post_transform",
    ]))?;
    let labels = super::int_labels(&attrs, "classlabels_int64s")?;
    let mut ids = list(&attrs, "class_ids")?.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if labels.len() == 2 && ids.len() < 2 {
        return Err(attrs.unsupported(
            "a binary ensemble with one score per leaf (ONNX derives the second class) is not supported",
        ));
    }
    let scores = leaf_scores(cx, node, &attrs, "class", labels.len())?;
    super::classify(cx, node, scores, &labels)
}

/// Lowers `TreeEnsembleRegressor` (one input row; the sum of the trees' values).
pub fn regressor(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&known(&[
        "aggregate_function",
        "base_values",
        "n_targets",
        "post_transform",
        "target_ids",
        "target_nodeids",
        "target_treeids",
        "target_weights",
    ]))?;
    if attrs.string("aggregate_function", "SUM") != "SUM"
        || attrs.string("post_transform", "NONE") != "NONE"
    {
        return Err(attrs.unsupported("only the SUM aggregate without post_transform is supported"));
    }
    let targets = usize::try_from(attrs.int("n_targets", 1)).unwrap_or(0);
    let scores = leaf_scores(cx, node, &attrs, "target", targets)?;
    cx.push(
        node,
        Op::Reshape(vec![1, targets]),
        vec![scores],
        vec![1, targets],
    )
}

/// The `[1, outputs]` sums of the reached leaves' weights (`prefix`: `class` or `target`).
fn leaf_scores(
    cx: &mut Context,
    node: &NodeProto,
    attrs: &Attrs<'_>,
    prefix: &str,
    outputs: usize,
) -> Result<usize, OnnxError> {
    let x = cx.activation(node, 0)?;
    let shape = cx.shape(x).to_vec();
    if shape.iter().product::<usize>() != shape.last().copied().unwrap_or(0) {
        return Err(attrs.unsupported(format!("input of shape {shape:?} (one row expected)")));
    }
    let e = parse(attrs)?;
    let leaves = paths(&e, attrs)?;
    let mut order: Vec<usize> = e.branches.keys().copied().collect();
    order.sort_unstable();
    let column: HashMap<usize, usize> = order.iter().enumerate().map(|(c, i)| (*i, c)).collect();
    let name = display_name(node);
    let c = tests(cx, &name, x, &e, &order, attrs)?;
    // Leaf l: Σ (c_i if the path needs the test to hold, else 1 − c_i) − len = 0.
    let (n, l) = (order.len(), leaves.len());
    let mut weights = vec![0.0f32; l * n];
    let mut bias = vec![0.0f32; l];
    for (j, (_, path)) in leaves.iter().enumerate() {
        for (i, holds) in path {
            weights[j * n + column[i]] = if *holds { 1.0 } else { -1.0 };
            bias[j] += if *holds { 0.0 } else { 1.0 };
        }
        bias[j] -= path.len() as f32;
    }
    let reach = Dense {
        inputs: n,
        outputs: l,
        weights,
        bias,
        batch: 1,
    };
    let s = cx.push_value(format!("{name}/paths"), Op::Dense(reach), vec![c], vec![l]);
    let reached = cx.push_value(
        format!("{name}/reached"),
        Op::Activation(Function::IsZero),
        vec![s],
        vec![l],
    );
    let row: HashMap<usize, usize> = leaves
        .iter()
        .enumerate()
        .map(|(j, (leaf, _))| (*leaf, j))
        .collect();
    let (trees, ids) = (
        list(attrs, &format!("{prefix}_treeids"))?,
        list(attrs, &format!("{prefix}_nodeids"))?,
    );
    let (targets, values) = (
        list(attrs, &format!("{prefix}_ids"))?,
        attrs.floats(&format!("{prefix}_weights")).unwrap_or(&[]),
    );
    if [ids.len(), targets.len(), values.len()] != [trees.len(); 3] || outputs == 0 {
        return Err(attrs.unsupported(format!("{prefix} attributes of unequal lengths")));
    }
    let mut leaf_values = vec![0.0f32; outputs * l];
    for k in 0..trees.len() {
        let j = e.index.get(&(trees[k], ids[k])).and_then(|i| row.get(i));
        let t = usize::try_from(targets[k]).ok().filter(|t| *t < outputs);
        match (j, t) {
            (Some(j), Some(t)) => leaf_values[t * l + j] += values[k],
            _ => {
                return Err(
                    attrs.unsupported(format!("{prefix} weight {k} names no leaf or output"))
                )
            }
        }
    }
    let base = attrs
        .floats("base_values")
        .map(<[f32]>::to_vec)
        .unwrap_or_else(|| vec![0.0; outputs]);
    if base.len() != outputs {
        return Err(attrs.unsupported(format!("{} base values for {outputs} outputs", base.len())));
    }
    let sum = Dense {
        inputs: l,
        outputs,
        weights: leaf_values,
        bias: base,
        batch: 1,
    };
    Ok(cx.push_value(
        format!("{name}/scores"),
        Op::Dense(sum),
        vec![reached],
        vec![1, outputs],
    ))
}
