// predict.js: "Predict: will JS get the response?" next to Run, and the
// session's score.
//
// Guessing before looking is how the lessons stick, but it is optional:
// with neither Yes nor No pressed, a run carries no prediction. Yes and No
// are toggle buttons (press again to take it back); after No, a select asks
// where it fails. The prediction is cleared after every run. In a lesson,
// predict mode is on: the control invites a guess before each run.

/** The prediction a run is sent with: null, {ok: true} or {ok: false, stage}. */
export function predictionFor(choice, stage) {
  if (choice === "yes") return { ok: true };
  if (choice === "no") return { ok: false, stage: stage ?? "" };
  return null;
}

/** "Predictions: 3 / 5 right", or "" when the server keeps no score. */
export function scoreText(score) {
  if (!score || typeof score !== "object") return "";
  const right = Number(score.right);
  const total = Number(score.total);
  if (!Number.isFinite(right) || !Number.isFinite(total)) return "";
  return total === 0 ? "Predictions: none yet" : `Predictions: ${right} / ${total} right`;
}

export class PredictControl {
  /** @param {HTMLElement} root  the #predict group (see predictControl in lab.templ) */
  constructor(root) {
    this.root = root;
    this.buttons = [...root.querySelectorAll("button[data-predict]")];
    this.stage = root.querySelector("select");
    this.choice = ""; // "", "yes" or "no"
    for (const button of this.buttons) {
      button.addEventListener("click", () => this.choose(button.dataset.predict));
    }
  }

  /** Presses one button (or releases it when it was pressed). */
  choose(choice) {
    this.choice = this.choice === choice ? "" : choice;
    this.show();
    // After No, the next question is where: take the learner there.
    if (this.choice === "no") this.stage.focus();
  }

  /** The prediction to send with the run, or null. */
  value() {
    return predictionFor(this.choice, this.stage.value);
  }

  clear() {
    this.choice = "";
    this.stage.value = "";
    this.show();
  }

  /** Makes the control visible: the server scores predictions. */
  enable() {
    this.root.classList.remove("off");
  }

  /**
   * Predict mode (on in lessons): the control is there from the start and
   * stands out while no guess is made. It only invites: Run works without.
   */
  invite() {
    this.enable();
    this.root.classList.add("inviting");
    this.show();
  }

  /** While a run is in flight the prediction is fixed. */
  setDisabled(disabled) {
    for (const button of this.buttons) button.disabled = disabled;
    this.stage.disabled = disabled || this.choice !== "no";
  }

  show() {
    for (const button of this.buttons) {
      button.setAttribute("aria-pressed", String(button.dataset.predict === this.choice));
    }
    const asking = this.choice === "no";
    this.stage.disabled = !asking;
    this.root.classList.toggle("asking-where", asking);
    this.root.classList.toggle("guessed", this.choice !== "");
  }
}

/** The score near the Run button: hidden until the server gives one. */
export class ScoreView {
  /**
   * @param {HTMLElement} node  the #score element
   * @param {object} options
   *   load(): Promise of the session's score (GET /api/sessions/{id}), or undefined
   *   onScore(): called when a score is shown (the server explains runs)
   */
  constructor(node, { load, onScore }) {
    this.node = node;
    this.load = load;
    this.onScore = onScore;
    this.timer = 0;
  }

  show(score) {
    const text = scoreText(score);
    if (!text) return; // a server that keeps no score: show none
    this.node.textContent = text;
    this.node.hidden = false;
    this.onScore();
  }

  /** Asks the server again, soon (several runs arriving at once ask once). */
  refresh() {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => this.show(await this.load()), 300);
  }
}
