/**
 * Every relative link in README.md and docs/ resolves: the file exists, and
 * a `#anchor` names a heading of the page it points to (GitHub's anchors:
 * lower case, punctuation dropped, spaces as hyphens, `-1`, `-2` for
 * repeats). Links inside code blocks are not links. Source comments cite
 * docs/ pages, never files outside the repository.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const pages = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** A page's text outside fenced code blocks. */
function prose(path: string): string {
  return readFileSync(join(root, path), "utf8").replace(/^```[\s\S]*?^```/gm, "");
}

export function anchorsOf(path: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of prose(path).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = heading!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").trim().replace(/\s/g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.(ts|mjs|js)$/.test(name) ? [path] : [];
  });
}

describe("documentation links", () => {
  it("finds the pages and their headings (the check itself works)", () => {
    expect(pages).toContain("docs/deploy.md");
    expect(anchorsOf("docs/http-api.md")).toContain("reading-a-buckets-log");
    expect(anchorsOf("docs/scans.md")).toContain("scans-one-table-across-the-lake-and-the-tablets");
  });

  it.each(pages)("%s links only to files and anchors that exist", (page) => {
    const broken: string[] = [];
    for (const [, target] of prose(page).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue; // http:, https:, mailto:
      const [file, anchor] = target!.split("#") as [string, string | undefined];
      const path = file === "" ? page : relative(root, resolve(dirname(join(root, page)), file));
      if (!existsSync(join(root, path))) {
        broken.push(`${target} (no file ${path})`);
        continue;
      }
      if (anchor !== undefined && path.endsWith(".md") && !anchorsOf(path).has(anchor)) broken.push(`${target} (no heading #${anchor} in ${path})`);
    }
    expect(broken).toEqual([]);
  });

  it("has source comments cite docs/ pages, not files outside the repository", () => {
    const offenders = ["src", "test", "bench", "scripts"].flatMap((dir) => sourceFiles(join(root, dir)))
      .filter((file) => !file.endsWith("docs-links.test.ts"))
      .filter((file) => /DESIGN\.md|\.\.\/shared/.test(readFileSync(file, "utf8")))
      .map((file) => relative(root, file));
    expect(offenders).toEqual([]);
  });
});
