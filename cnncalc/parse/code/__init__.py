"""Model code read by a small abstract interpreter over Python's ``ast``.

Nothing is evaluated by Python, compiled, imported or executed: :mod:`.interp` walks the tree
of a whitelisted subset of Python (literals, arithmetic, comparisons, ``if``, bounded ``for``
loops, functions and classes of the file, lists, tuples and dicts) with values of its own, and
whatever else it meets is one diagnostic at its line and column (P021) naming what it cannot
follow. Every loop, call depth, list, number and the total work are bounded (P022).

The interpreter knows no framework. A framework plugs in through :class:`.values.Framework`:
what a call of an imported name returns (``nn.Conv2d(...)``, ``keras.Input(...)``), what
calling one of its objects does (a module called on a tensor), its objects' attributes,
operators and indexing, and which imported classes make a class of the file a model class.
Tensors are symbolic (:mod:`.graph`): the output of a layer of the Spec being built, whose
volume is known as it is built. :mod:`.torch_nn` and :mod:`.torch_ops` are PyTorch's side.

Another framework is another class with the :class:`.values.Framework` methods. For Keras's
functional API: ``call_name`` makes ``keras.Input(shape=...)`` the graph's input tensor, a
layer class called with arguments (``layers.Conv2D(32, 3)``) a layer object read by the
Keras argument readers, ``layers.add``/``concatenate``/``multiply`` merges and
``keras.Model(inputs, outputs)`` a model value naming its output tensor; ``call_object``
makes a layer object called on a tensor a Spec layer (``x = layers.ReLU()(x)``); ``operator``
makes ``x + y`` an add; ``is_base`` takes ``keras.Model`` for subclassed models (whose
``call()`` ``call_object`` runs). Helper functions that take and return tensors, loops and
lists need nothing more: they are the interpreter's. Its front end runs the file's top-level
statements in order (functional models are built there) rather than only declaring them.
"""
