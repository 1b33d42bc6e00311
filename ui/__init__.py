"""What the pages share, one module per job. Pages import from here; this package calls mnist_core
and never does TensorFlow maths itself. The arrows point one way: pages -> ui -> mnist_core."""
