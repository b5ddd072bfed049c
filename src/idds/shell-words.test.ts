import { describe, expect, it } from "vitest";
import { ShellWordsError, splitShellWords } from "./shell-words.ts";

describe("splitShellWords", () => {
  it("splits as bash does: blanks, quotes, backslashes, comments", () => {
    expect(splitShellWords("python /opt/x.py --max_points=%MAX_POINTS  --input=/data/%IN")).toEqual([
      "python",
      "/opt/x.py",
      "--max_points=%MAX_POINTS",
      "--input=/data/%IN",
    ]);
    expect(splitShellWords(`sh -c 'cat %IN | head > %OUT'`)).toEqual(["sh", "-c", "cat %IN | head > %OUT"]);
    expect(splitShellWords(`echo "a b" c\\ d "x\\"y" '' e"f"g`)).toEqual([
      "echo",
      "a b",
      "c d",
      'x"y',
      "",
      "efg",
    ]);
    expect(splitShellWords("run --flag # a comment")).toEqual(["run", "--flag"]);
    expect(splitShellWords("  ")).toEqual([]);
  });
  it("refuses what only a shell on the iDDS host could do, saying how to write it", () => {
    const cases: [string, RegExp][] = [
      ["cat %IN > %OUT", /">" at character 9 is shell syntax: .*sh -c '...'/],
      ["a; b", /";" at character 2/],
      ["a && b", /"&" at character 3/],
      ["echo $HOME", /"\$HOME" at character 6 is a shell expansion/],
      ['echo "$(pwd)"', /"\$\(" at character 7/],
      ["echo `id`", /"`" at character 6/],
      ["echo 'open", /single quote at character 6 is never closed/],
      ['echo "open', /double quote at character 6 is never closed/],
    ];
    for (const [s, message] of cases) {
      expect(() => splitShellWords(s)).toThrow(ShellWordsError);
      expect(() => splitShellWords(s)).toThrow(message);
    }
  });
});
