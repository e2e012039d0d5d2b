// Text from traced data (model and user names, metadata) and from peers (an error body) is hostile.
// On a terminal ESC starts sequences that clear the screen, recolour, retitle the window or plant an
// OSC 8 link; BEL rings; NUL and CR hide what precedes them. Each control character is shown
// escaped, as `\x1b`, so it is visible and inert rather than removed without a trace or obeyed.

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const CONTROL_EXCEPT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

function escaped(char: string): string {
  const code = char.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One line: every control character escaped, line breaks included ("a\x0ab"). */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, escaped);
}

/** Text for a terminal (stdout, pretty logs): line breaks kept, every other control character escaped. */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL_EXCEPT_NEWLINE, escaped);
}
