//! Removes the IR nodes the graph output does not depend on (what an exporter computes for
//! outputs the model does not return, e.g. an expanded LayerNormalization's mean).

use zkinfer_core::ir::Graph;

/// `graph` without the nodes its output does not read, values renumbered.
pub fn prune(graph: Graph) -> Graph {
    let n = graph.nodes.len();
    let mut live = vec![false; n + 1];
    live[graph.output] = true;
    for v in (1..=n).rev() {
        if live[v] {
            for i in &graph.nodes[v - 1].inputs {
                live[*i] = true;
            }
        }
    }
    live[0] = true;
    // New id of every kept value (the input keeps 0).
    let mut id = vec![0; n + 1];
    let mut next = 0;
    for (v, keep) in live.iter().enumerate().skip(1) {
        if *keep {
            next += 1;
            id[v] = next;
        }
    }
    let nodes = graph
        .nodes
        .into_iter()
        .enumerate()
        .filter(|(i, _)| live[i + 1])
        .map(|(_, mut node)| {
            node.inputs.iter_mut().for_each(|i| *i = id[*i]);
            node
        })
        .collect();
    Graph {
        input_shape: graph.input_shape,
        nodes,
        output: id[graph.output],
        output_parts: graph.output_parts,
    }
}
