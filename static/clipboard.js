// clipboard.js: copying text, with a fallback for pages that cannot use
// the clipboard API. navigator.clipboard needs a "secure context": https,
// or http on 127.0.0.1/localhost. A workshop on a plain-http LAN address is
// not one, so there we select the text in a box and try the old copy
// command; if even that fails, the box stays open for Ctrl+C.

const CONFIRM_MS = 2500;

/**
 * Copies text. field is the <input> or <textarea> used by the fallback;
 * show(on) opens or closes the box holding it. Resolves to true when the
 * text is on the clipboard, false when the learner must press Ctrl+C.
 */
export async function copyText(text, { field, show }) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      show(false);
      return true;
    } catch { /* fall back below */ }
  }
  field.value = text;
  show(true);
  field.focus();
  field.select();
  let copied = false;
  try { copied = document.execCommand("copy"); } catch { copied = false; }
  if (copied) show(false);
  return copied;
}

/**
 * Says "Copied ✓" on the button for a moment, then puts its label back.
 * The button keeps its width (see .copy-button in lab.css).
 */
export function confirmCopied(button, label) {
  button.textContent = "Copied ✓";
  button.classList.add("copied");
  clearTimeout(button.copyTimer);
  button.copyTimer = setTimeout(() => {
    button.textContent = label;
    button.classList.remove("copied");
  }, CONFIRM_MS);
}
