// dropviz keyboard: presentation keys, whenever focus is not in a text field.
// Each key press becomes one action: a DOM event "dropviz-key" (so the live view can react at once,
// before any round trip to Python) and a trigger value "action#mount#count[@shown]" for the page's callback.
// The key map comes from Python (data.keys); this file holds no key names of its own.
const TEXT_FIELDS = ["INPUT", "TEXTAREA", "SELECT"];

function typing(event) {
  const target = event.composedPath ? event.composedPath()[0] : event.target;
  if (!target || !target.tagName) return false;
  if (target.isContentEditable) return true;
  if (!TEXT_FIELDS.includes(target.tagName)) return false;
  // sliders, checkboxes and radio buttons are inputs that take no text: the keys still work there
  const type = (target.getAttribute("type") || "text").toLowerCase();
  return !["range", "checkbox", "radio", "button"].includes(type) || target.getAttribute("role") === "combobox";
}

export default function (component) {
  const { data, parentElement, setTriggerValue, setStateValue } = component;
  const state = parentElement.__keys || (parentElement.__keys = {});
  state.map = (data && data.keys) || {};
  state.send = setTriggerValue;
  // the window's size in CSS pixels, for Python to size what it draws (Plotly panels); again on resize
  state.report = () => {
    const size = [window.innerWidth, window.innerHeight];
    if (state.size && state.size[0] === size[0] && state.size[1] === size[1]) return;
    state.size = size;
    setStateValue("viewport", size);
  };
  if (data && data.viewport) {
    if (!state.sized) {
      state.sized = true;
      state.report();
      window.addEventListener("resize", () => { clearTimeout(state.resizeTimer); state.resizeTimer = setTimeout(state.report, 400); });
    }
  }
  if (state.listener) return;
  state.counts = {};
  state.mount = Math.random().toString(36).slice(2, 10);  // this element's presses, told from a new one's
  const press = (action) => {
    const detail = { action };
    document.dispatchEvent(new CustomEvent("dropviz-key", { detail }));  // a live view that stops puts in `shown`
    state.counts[action] = (state.counts[action] || 0) + 1;
    // each action's own press count: two presses are two distinct triggers, and when Streamlit merges
    // presses that came during one rerun, Python still sees how many there were; and, when the press paused a
    // live view, the iteration it shows, for Python to take the run back to
    const shown = Number.isInteger(detail.shown) ? `@${detail.shown}` : "";
    state.send("action", `${action}#${state.mount}#${state.counts[action]}${shown}`);
  };
  state.listener = (event) => {
    // the element is gone (another page of the app is shown in this tab): its listener goes too, or every press
    // would count twice on the next page that mounts its own
    if (!parentElement.isConnected) { document.removeEventListener("keydown", state.listener, true); return; }
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat && event.key === " ") return;
    if (typing(event)) return;
    // a focused slider (an input of type range, or a role="slider" element) keeps its arrow keys
    const target = event.composedPath ? event.composedPath()[0] : event.target;
    const slider = target && (target.type === "range" || (target.closest && target.closest('[role="slider"]')));
    if (event.key.startsWith("Arrow") && slider) return;
    const action = state.map[event.key];
    if (!action) return;
    event.preventDefault();  // Space and PageDown would scroll the page
    event.stopPropagation();
    press(action);
  };
  document.addEventListener("keydown", state.listener, true);
}
