"""One or two lines per panel that teach what it shows. p is always the drop probability."""

CAPTIONS = {
    "network": "Each iteration every hidden neuron is dropped with probability p (crossed out: it sends 0, its "
               "edges are faded); the outputs are never dropped. Each example in a batch draws its own mask: "
               "this is the mask of the tracked example.",
    "network_inverted": "Inverted dropout: the survivors' outputs are multiplied by 1/(1−p) during training, so "
                        "the next layer receives the same total on average.",
    "network_classic": "Classic dropout (2014 paper): no scaling during training; at test time activations are "
                       "multiplied by the keep probability 1−p (not by p).",
    "test_time": "At test time no neuron is dropped: every neuron is active, so a prediction is the same every "
                 "time. With inverted dropout nothing is rescaled at test time: training already multiplied the "
                 "survivors by 1/(1−p). With classic dropout activations are multiplied by the keep probability "
                 "1−p (not by p), so the next layer gets what it got on average in training.",
    "rescale": "Dropping a fraction p of the neurons removes about a fraction p of the layer's total; multiplying "
               "the survivors by 1/(1−p) puts it back on average, as the running mean shows.",
    "rescale_classic": "Classic mode: training sends the masked total unscaled, which averages (1−p) times the "
                       "full total; so at test time, with every neuron on, activations are multiplied by 1−p to match.",
    "gradient": "Backpropagation updates only the active neurons: a dropped neuron, and the weights into and out "
                "of it, get exactly zero gradient from this example in this iteration.",
    "projection": "Your data has more than two features or classes: each test point is drawn where its first two "
                  "principal components put it (PCA of the training points), coloured by the class the network "
                  "predicts at test time; a cross marks a wrong prediction.",
    "boundary": "Colour: the network's test-time probability of class 1 (no dropout); the line is where it is "
                "0.5. Solid dots are training points, hollow dots test points, the ring is the tracked example.",
    "digits": "Test digits the network never trained on, with its test-time prediction and confidence "
              "(green right, red wrong).",
    "curves": "Solid: this run with dropout; dashed: a p = 0 twin with the same initial weights and batches. "
              "Training loss is measured at test time (no dropout) so it compares with the test loss; the twin "
              "usually fits the training set better but its test loss grows: overfitting.",
}

# the help (?) of every panel's caption: what its toolbar offers
DOWNLOAD_HELP = ("Download this panel as PNG or SVG with the camera button in its top-right corner (shown when "
                 "the pointer is over the panel). The picture is made in your browser: nothing is installed on "
                 "the server.")
