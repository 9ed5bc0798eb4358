import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exampleReportData } from "./example-report.js";
import { frontierSvg } from "./frontier-chart.js";
import type { EvalReportData } from "./report-data.js";
import { escapeHtml, reportHtml, writeReport } from "./report-html.js";

const chromiumPath = "/usr/bin/chromium";
const hasChromium = existsSync(chromiumPath);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "cai-report-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const attack = "<script>alert(1)</script>";

/** The example report with a response and a reasoning that try to inject markup. */
function hostileReport(): EvalReportData {
  const data = exampleReportData();
  const [first, ...rest] = data.samples;
  return {
    ...data,
    samples: [
      { ...first!, second: { ...first!.second, response: attack }, reasoning: `"quoted" & ${attack}` },
      ...rest,
    ],
  };
}

describe("report page", () => {
  it("escapes HTML special characters", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });

  it("holds the frontier, the rating, rate and consistency tables, and the pairs with reasoning", async () => {
    const data = hostileReport();
    const html = reportHtml(data, await frontierSvg(data));
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain("<svg");
    for (const id of ["ratings", "rates", "position-consistency"])
      expect(html).toContain(`<table id="${id}">`);
    // Ratings with their intervals, rates, consistency.
    expect(html).toContain('<td class="number">1250</td><td class="number">[1200, 1300]</td>');
    expect(html).toContain('<td class="number">7.5%</td>');
    expect(html).toContain('<td class="number">77.5%</td>');
    expect(html).toContain("llama:./base.gguf+./rl-cai.safetensors");
    expect(html).toContain("<summary>The judge's reasoning</summary>");
    // User text is text: the injected script appears only escaped.
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&quot;quoted&quot; &amp; &lt;script&gt;");
    expect(html).not.toMatch(/<script/i);
    // Self-contained: nothing to fetch.
    expect(html).not.toMatch(/<link|<img|<iframe|\ssrc=|url\(|@import/i);
  });

  it("writes report.html, frontier.svg, frontier.png and report.json", async () => {
    const data = exampleReportData();
    const files = await writeReport(dir, data);
    const svg = await readFile(files.svg, "utf8");
    expect(await readFile(files.html, "utf8")).toContain(svg);
    expect((await readFile(files.png)).subarray(1, 4).toString()).toBe("PNG");
    expect(JSON.parse(await readFile(files.json, "utf8"))).toEqual(data);
  });

  it.skipIf(!hasChromium)(
    `loads in headless Chromium without console errors, page errors or requests (skipped when ${chromiumPath} is missing: .ci/run installs it)`,
    async () => {
      const files = await writeReport(dir, hostileReport());
      const context = await chromium.launchPersistentContext(path.join(dir, "profile"), {
        executablePath: chromiumPath,
        headless: true,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      });
      try {
        const page = await context.newPage();
        const problems: string[] = [];
        const requests: string[] = [];
        page.on("console", (message) => {
          if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
        });
        page.on("pageerror", (error) => problems.push(error.message));
        page.on("dialog", (dialog) => {
          problems.push(`dialog: ${dialog.message()}`);
          void dialog.dismiss();
        });
        const url = pathToFileURL(files.html).href;
        page.on("request", (request) => {
          if (request.url() !== url) requests.push(request.url());
        });
        await page.goto(url, { waitUntil: "load" });
        expect(problems).toEqual([]);
        expect(requests).toEqual([]);
        expect(await page.locator("figure svg").count()).toBe(1);
        expect(await page.locator("#ratings tbody tr").count()).toBe(3);
        expect(await page.locator("#rates tbody tr").count()).toBe(3);
        expect(await page.locator(".pair").count()).toBe(2);
        expect(await page.locator("script").count()).toBe(0);
        expect(await page.locator("#pair-1 .text").nth(2).textContent()).toBe(attack);
      } finally {
        await context.close();
      }
    },
  );
});
