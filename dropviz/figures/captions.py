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
                 "1−p (not by p). Either way each next-layer neuron's weighted sum equals its average over training's "
                 "masks exactly; after a nonlinearity the full network only approximates the average of the thinned "
                 "networks (weight scaling), and the Monte-Carlo experiment measures that gap.",
    "rescale": "Dropping a fraction p of the neurons removes about a fraction p of the layer's total; multiplying "
               "the survivors by 1/(1−p) puts it back on average, as the running mean shows.",
    "rescale_classic": "Classic mode: training sends the masked total unscaled, which averages (1−p) times the "
                       "full total; so at test time, with every neuron on, activations are multiplied by 1−p to match.",
    "gradient": "Exact: a neuron dropped for this example, and the weights into and out of it, get zero gradient "
                "from this example in this iteration. Not exact: the update. Other examples in the batch draw "
                "their own masks and most keep it, and momentum or Adam keeps weights moving, so its weights still "
                "change.",
    "projection": "Your data has more than two features or classes: each test point is drawn where its first two "
                  "principal components put it (PCA of the training points), coloured by the class the network "
                  "predicts at test time; a cross marks a wrong prediction.",
    "boundary": "Colour: the network's test-time probability of class 1 (no dropout); the line is where it is "
                "0.5. Solid dots are training points, hollow dots test points, the ring is the tracked example.",
    "digits": "Test digits the network never trained on, with its test-time prediction and confidence "
              "(green right, red wrong).",
    "curves": "Solid: this run with dropout; dashed: a p = 0 twin with the same initial weights and batches. "
              "Training loss is measured at test time (no dropout) so it compares with the test loss; the twin "
              "usually fits the training set better but its test loss grows: overfitting. The dropout run's test "
              "loss can rise too, more slowly: dropout delays overfitting, it does not abolish it.",
    "when": "When it helps: wide or deep networks on a moderate amount of data. On very small data (digits with "
            "20 or fewer training examples) it can hurt. Too little dropout overfits, too much underfits.",
    "where": "This app shows dense layers, each neuron with its own mask. Convolutional and recurrent layers need "
             "their own mask shapes: whole channels or blocks for convolutions, and one mask shared across all "
             "time steps of a sequence for recurrent layers.",
    "notation": "Notation: dropviz's p is the DROP probability. The 2014 dropout paper (Srivastava et al.) writes p "
                "for the RETAIN probability: its p = 0.5 for hidden units and p = 0.8 for inputs are dropviz's "
                "p = 0.5 and input p = 0.2. Add notation=retain to the URL to label everything the paper's way.",
    "ensemble": "Every mask picks one thinned network, and all of them share the same weights: training with "
                "dropout trains this whole ensemble at once. The ideal prediction is their average; the test-time "
                "pass (nothing dropped, weight scaling) is one cheap approximation of it. The numbers say how close.",
    "coadaptation": "With dropout a unit cannot count on particular partners to fix its mistakes, so each must be "
                    "useful on its own. The 2014 paper (Fig 7, an MNIST autoencoder) saw the result as more local, "
                    "less noisy features. Here: a digits classifier and its twin without dropout, from the same "
                    "initial weights and batches.",
    "per_layer": "The paper dropped inputs with probability 0.2 and hidden units with 0.5 (in its own notation, "
                 "retain p = 0.8 and 0.5). Input dropout on a 2-D data set mostly moves points onto an axis: with "
                 "two inputs, dropping one sets that coordinate to 0, so the point jumps onto the other axis. On a "
                 "64-pixel digit a dropped pixel is one of many, and the digit stays readable: that is where input "
                 "dropout makes sense.",
}

# the help (?) of every panel's caption: what its toolbar offers
DOWNLOAD_HELP = ("Download this panel as PNG or SVG with the camera button in its top-right corner (shown when "
                 "the pointer is over the panel). The picture is made in your browser: nothing is installed on "
                 "the server.")
