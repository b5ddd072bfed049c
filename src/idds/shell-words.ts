/**
 * Splits an iDDS `arguments` string into the words bash would pass to `docker run IMAGE ...`, so
 * they can become a container's args. iDDS writes `docker run ... SANDBOX ARGUMENTS` into a bash
 * script on its own host: quotes and backslashes are removed as bash removes them, and whatever bash
 * would have done on that host (pipes, redirections, `;`, `&&`, `$VAR`, `$(...)`, backticks) cannot
 * be reproduced in a container's args, so it is refused with a message that says how to write it
 * instead (inside the container: `sh -c '...'`). Pure.
 */

/** ShellWordsError is an arguments string that cannot be split faithfully; message says why. */
export class ShellWordsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ShellWordsError";
  }
}

const operators = new Set(["|", "&", ";", "<", ">", "(", ")"]);

const hostShell =
  "iDDS ran it in a shell on its own host, which a container's arguments cannot do; " +
  "to run a shell inside the container, write it as sh -c '...' (single quotes)";

/** splitShellWords splits s as bash splits a simple command; it throws ShellWordsError for shell syntax. */
export function splitShellWords(s: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    if (c === "#" && !inWord) break; // a comment, as bash reads it, runs to the end
    inWord = true;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new ShellWordsError(`a single quote at character ${i + 1} is never closed`);
      word += s.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      const [text, end] = doubleQuoted(s, i);
      word += text;
      i = end;
    } else if (c === "\\") {
      if (i + 1 < s.length && s.charAt(i + 1) !== "\n") word += s.charAt(i + 1);
      i++;
    } else if (operators.has(c)) {
      throw new ShellWordsError(`${JSON.stringify(c)} at character ${i + 1} is shell syntax: ${hostShell}`);
    } else if (c === "$" || c === "`") {
      throw new ShellWordsError(
        `${expansion(s, i)} at character ${i + 1} is a shell expansion: ${hostShell}`,
      );
    } else {
      word += c;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** doubleQuoted reads a "..." string starting at open; it returns its text and the closing quote's index. */
function doubleQuoted(s: string, open: number): [string, number] {
  let text = "";
  for (let i = open + 1; i < s.length; i++) {
    const c = s.charAt(i);
    if (c === '"') return [text, i];
    if (c === "\\" && i + 1 < s.length && '$`"\\\n'.includes(s.charAt(i + 1))) {
      if (s.charAt(i + 1) !== "\n") text += s.charAt(i + 1);
      i++;
    } else if (c === "$" || c === "`") {
      throw new ShellWordsError(
        `${expansion(s, i)} at character ${i + 1} is a shell expansion: ${hostShell}`,
      );
    } else {
      text += c;
    }
  }
  throw new ShellWordsError(`a double quote at character ${open + 1} is never closed`);
}

/** expansion shows the start of the expansion at i, such as "$(pwd" or "$HOME", for the message. */
function expansion(s: string, i: number): string {
  const m = /^(\$\(|\$\{|\$[A-Za-z_][A-Za-z0-9_]*|\$.|`)/.exec(s.slice(i));
  return JSON.stringify(m?.[0] ?? s.charAt(i));
}
