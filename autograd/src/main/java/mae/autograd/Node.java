package mae.autograd;

import mae.tensor.Tensor;

import java.util.function.Function;

/** One recorded op: its inputs and the closure that maps the output gradient to the inputs' gradients. */
final class Node {
    final String op;
    Var[] inputs;
    Function<Tensor, Tensor[]> backward;

    Node(String op, Var[] inputs, Function<Tensor, Tensor[]> backward) {
        this.op = op;
        this.inputs = inputs;
        this.backward = backward;
    }

    /** Drops the saved tensors (held by the closure) once backward has run. */
    void release() {
        backward = null;
        inputs = null;
    }
}
