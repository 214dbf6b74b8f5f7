"""The guided lesson: ten steps through dropout, as data (no Streamlit).

Each step says what to load (a Config, a starting speed, a panel, the test-time switch, and how many
iterations to train before the step opens), what to read, one question to predict before pressing
Play, and its answer. Every step's `claim` is checked on the step's own setup by tests/test_lesson.py.

The steps follow the seed explainer's outline, with its one mistake corrected: in dropviz p is always
the drop probability, so classic dropout multiplies by the keep probability 1-p at test time, and
inverted dropout rescales nothing at test time.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import Config
from .live.page_state import PANELS
from .live.session import SPEED_BY_KEY, LiveSession

WARMUP_CHUNK = 10  # warm-up iterations per recorded frame, so the loss curves show the warm-up too


@dataclass(frozen=True)
class Setup:
    config: Config
    speed: str          # a key of dropviz.live.session.SPEED_BY_KEY
    panel: str          # one of PANELS, the URL's panel= names (boundary: the decision boundary, or digits)
    test_time: bool     # show the network as it runs at test time
    warmup: int = 0     # iterations trained before the step opens (0: it starts fresh)

    def __post_init__(self) -> None:
        if self.panel not in PANELS:
            raise ValueError(f"panel={self.panel!r}: expected one of {', '.join(PANELS)}")


@dataclass(frozen=True)
class LessonStep:
    title: str
    text: str
    setup: Setup
    question: str       # asked before the user presses Play: predict first
    answer: str         # revealed on click
    claim: str          # what tests/test_lesson.py checks, on this step's setup


# A small network whose every neuron fits on the projector, and a wide one that can overfit 40 points.
SMALL = Config(dataset="moons", n_train=40, noise=0.3, depth=2, width=8, activation="relu", p=0.5,
               mode="inverted", optimizer="sgd", lr=0.1, batch_size=64, seed=0, data_seed=0)
WIDE = SMALL.replace(width=256, noise=0.4, lr=0.2)

STEPS: tuple[LessonStep, ...] = (
    LessonStep(
        title="A network and one forward pass",
        text="This network has 2 inputs, two hidden layers of 8 neurons, and 2 outputs. "
             "A forward pass sends one training point through it, layer by layer. "
             "Each neuron adds up its weighted inputs and passes the result on. "
             "The outputs are the network's probabilities for the two classes.",
        setup=Setup(SMALL.replace(p=0.0), speed="1-per-s", panel="boundary", test_time=False),
        question="Before any training, what do the two output probabilities add up to?",
        answer="Exactly 1: the last step, called softmax, turns the outputs into probabilities. "
               "No neuron is dropped yet, since here p = 0.",
        claim="iteration 0: nothing dropped, activations are the plain forward pass, outputs sum to 1",
    ),
    LessonStep(
        title="Dropout: a new mask every iteration",
        text="Now p = 0.5: at every iteration, each hidden neuron is dropped with probability p. "
             "A dropped neuron sends 0, as if it were not there. "
             "The output neurons are never dropped. "
             "Press Step a few times: each iteration draws a new mask.",
        setup=Setup(SMALL, speed="1-per-s", panel="boundary", test_time=False),
        question="Of the 16 hidden neurons, how many will be dropped at each step?",
        answer="About 8 on average, but it changes from step to step: each neuron is dropped on its own, "
               "with probability 0.5. "
               "So every iteration trains a different thinned network.",
        claim="consecutive masks differ; the dropped fraction is within a binomial bound of p; "
              "outputs are computed from every output neuron",
    ),
    LessonStep(
        title="Why survivors are scaled by 1/(1-p)",
        text="Dropping half the neurons removes about half of what the next layer receives. "
             "So in training the survivors are multiplied by 1/(1-p), here by 2. "
             "The panel divides the layer's sum after dropout by its sum without dropout, at every iteration. "
             "Its running mean shows whether the sum is right on average.",
        setup=Setup(WIDE, speed="1-per-frame", panel="rescale", test_time=False),
        question="One iteration's ratio jumps around. Where will the running mean settle?",
        answer="On 1: after about 100 iterations it is within 5% of 1. "
               "A neuron survives with probability 1-p and is then multiplied by 1/(1-p), "
               "so on average it sends exactly what it sends without dropout.",
        claim="the running mean of sum(after) / sum(before) over the last 100 frames is within 5% of 1",
    ),
    LessonStep(
        title="Backpropagation through the kept neurons",
        text="Training sends the error backwards through the same thinned network: this is backpropagation. "
             "It gives each weight a gradient, the direction that lowers the loss. "
             "A neuron dropped for the tracked example, the point the diagram follows, "
             "gets exactly zero gradient from it.",
        setup=Setup(SMALL, speed="1-per-s", panel="gradient", test_time=False, warmup=50),
        question="A neuron is dropped for the tracked example. Do the weights into it change in this iteration?",
        answer="Usually yes: the other examples in the batch draw their own masks and most of them kept it, "
               "so its weights still move. "
               "With momentum or Adam, weights keep moving even in an iteration where no example used them.",
        claim="dropped neurons get exactly zero gradient from the tracked example, "
              "yet the weights into them change in the same iteration",
    ),
    LessonStep(
        title="Test time: nothing is dropped",
        text="At test time every neuron is on, so a prediction is the same every time. "
             "Inverted dropout, the PyTorch way used so far, rescales nothing at test time: training already did. "
             "Classic dropout, shown here with p = 0.2, does not scale in training. "
             "Instead, at test time it multiplies by the keep probability 1-p = 0.8.",
        setup=Setup(SMALL.replace(p=0.2, mode="classic"), speed="3-per-frame", panel="boundary",
                    test_time=True, warmup=300),
        question='Some texts say the weights are "scaled down by p" at test time. With p = 0.2, is that right?',
        answer="No: with p the drop rate, the factor is the keep probability 1-p = 0.8, not 0.2. "
               "The mix-up comes from the 2014 dropout paper, where p is the probability of keeping a neuron.",
        claim="test time is deterministic with nothing dropped; classic = inverted with outgoing weights "
              "multiplied by 1-p (not by p)",
    ),
    LessonStep(
        title="Overfitting: dropout against a p = 0 twin",
        text="A wide network, two layers of 256, learns from only 40 noisy points. "
             "The dashed twin is the same network without dropout: same start, same batches. "
             "The twin fits the noise, so its test loss climbs. "
             "Within about 400 iterations it passes the dropout run's test loss and stays above.",
        setup=Setup(WIDE, speed="3-per-frame", panel="boundary", test_time=False),
        question="After 600 iterations, whose test loss will be higher: the dropout run's or the twin's?",
        answer="The twin's: it memorises the noise in 40 points, which does not carry over to new points. "
               "Dropout stops the network from relying on a few neurons, so it fits the noise less.",
        claim="the twin's test loss is above the dropout run's at every frame from iteration 400 to 600, "
              "and climbs",
    ),
    LessonStep(
        title="Choosing p: too much dropout underfits",
        text="Too little dropout overfits, as the twin just did. "
             "Here p = 0.9 drops nine neurons in ten, on 200 points. "
             "Compare its training loss with the twin's. "
             "Then set p = 0.5 and press Reset to compare.",
        setup=Setup(Config(dataset="moons", n_train=200, noise=0.3, depth=2, width=256, p=0.9, lr=0.1),
                    speed="5-per-frame", panel="boundary", test_time=False),
        question="At p = 0.9, will the training loss get as low as the twin's?",
        answer="No, it stays well above: with one neuron in ten left, the network cannot even fit "
               "the training points. "
               "A moderate p such as 0.5 fits them and also does better on the test points.",
        claim="p = 0.9: training loss stays above the twin's by more than 0.1; "
              "p = 0.5 has a lower test loss than p = 0.9",
    ),
    LessonStep(
        title="The costs of dropout",
        text="Dropout slows learning: every iteration trains a different thinned network. "
             "Each iteration also costs a little more, since a mask is drawn for every neuron. "
             "And runs vary: another seed gives other masks and other curves. "
             "The same seed repeats a run exactly.",
        setup=Setup(Config(dataset="moons", n_train=200, noise=0.3, depth=2, width=128, p=0.5, lr=0.1),
                    speed="5-per-frame", panel="boundary", test_time=False),
        question="To reach the same training loss, does the dropout run need more iterations than its twin, "
                 "or fewer?",
        answer="More: here about one and a half times as many. "
               "Its updates are noisier, because each comes from a different thinned network.",
        claim="the dropout run needs at least 1.25 times the twin's iterations to reach a training loss of "
              "0.15; two seeds differ; the same seed reproduces exactly",
    ),
    LessonStep(
        title="Why it works: many networks in one",
        text="Each mask picks one thinned network, and all of them share the same weights. "
             "With 32 hidden neurons there are 2^32 of them, over four billion. "
             "Training with dropout trains a huge ensemble of them at once. "
             "And since partners vanish at random, neurons cannot co-adapt: none can rely on others fixing its errors.",
        setup=Setup(SMALL.replace(n_train=200, width=16), speed="3-per-frame", panel="boundary",
                    test_time=True, warmup=300),
        question="Is one pass of the full network the same as averaging many thinned networks?",
        answer="Not exactly, but close: the single test-time pass only approximates the ensemble's average. "
               "Here their probabilities differ by a few hundredths, and the predicted class almost never changes.",
        claim="the mean of 100 thinned passes is within 0.1 of the test-time pass on average and agrees "
              "on 98% of classes; there are 2^(hidden neurons) thinned networks",
    ),
    LessonStep(
        title="Where dropout applies",
        text="This app shows dense networks, where each neuron gets its own mask; here one reads 8x8 images of digits. "
             "Convolutional networks drop whole channels or blocks, since neighbouring pixels carry "
             "almost the same information. "
             "Recurrent networks share one mask across all time steps of a sequence.",
        setup=Setup(Config(dataset="digits", n_train=500, noise=0.3, depth=2, width=64, p=0.5,
                           optimizer="adam", lr=0.003),
                    speed="3-per-frame", panel="boundary", test_time=False, warmup=200),
        question="In a recurrent network, why keep the same mask at every time step?",
        answer="A new mask at every step would keep erasing what the network remembers of the sequence. "
               "With one mask per sequence the same neurons stay off throughout, and the memory survives.",
        claim="the network is dense with one mask entry per neuron and learns digits with dropout; "
              "the text names channel masks and masks shared across time steps",
    ),
)


def open_session(step: LessonStep) -> LiveSession:
    """The live session a step opens with: its config and speed, trained `warmup` iterations.

    The warm-up is recorded every WARMUP_CHUNK iterations, so the loss curves show it.
    """
    setup = step.setup
    live = LiveSession(setup.config, speed=SPEED_BY_KEY[setup.speed].label)
    done = 0
    while done < setup.warmup:
        n = min(WARMUP_CHUNK, setup.warmup - done)
        live.step(n)
        done += n
    return live
