import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exampleDemoReportData, exampleOrganismReportData, exampleReportData } from "./example-report.js";
import { frontierSvg, groundTruthFrontier } from "./frontier-chart.js";
import type { EvalReportData } from "./report-data.js";
import { escapeHtml, formatTableNumber, reportDate, reportHtml, writeReport } from "./report-html.js";

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

/** The hostile report with a ground-truth judge and extra tables whose text tries to inject markup too. */
function hostileOrganismReport(): EvalReportData {
  const organism = exampleOrganismReportData();
  const [table] = organism.tables!;
  return {
    ...hostileReport(),
    groundTruth: { ...organism.groundTruth!, judge: "truth<&>" },
    tables: [
      table!,
      {
        title: `Probe ${attack}`,
        columns: ["<b>name</b>", "value"],
        rows: [
          [attack, 2],
          ["'x' & \"y\"", null],
        ],
      },
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

  it("formats the numbers of extra tables with at most 3 decimals", () => {
    expect([120, -3, 0, 0.8125, 0.7, 1234.56789, 2.5, 0.000123456, -0.14159].map(formatTableNumber)).toEqual([
      "120",
      "-3",
      "0",
      "0.813",
      "0.7",
      "1234.568",
      "2.5",
      "0.000123",
      "-0.142",
    ]);
    expect(formatTableNumber(Number.NaN)).toBe("—");
    expect(formatTableNumber(Number.POSITIVE_INFINITY)).toBe("—");
  });

  it("holds the ground-truth frontier and ratings and the extra tables, escaped, only when given", async () => {
    const data = hostileOrganismReport();
    const truthSvg = await frontierSvg(data, groundTruthFrontier(data));
    const html = reportHtml(data, await frontierSvg(data), truthSvg);
    expect(html).toContain('<figure id="frontier"><svg');
    expect(html).toContain('<figure id="frontier-truth"><svg');
    expect(html).toContain(truthSvg.slice(truthSvg.indexOf("<svg")));
    expect(html).toContain(">Frontier judged by truth&lt;&amp;&gt;<");
    expect(html).toContain("<code>truth&lt;&amp;&gt;</code>");
    expect(html).toContain('<table id="ground-truth-ratings">');
    expect(html).toContain('<td class="number">1300</td><td class="number">[1270, 1330]</td>');
    // Extra tables come after the rates, in order, with their notes.
    const rates = html.indexOf('<table id="rates">');
    const first = html.indexOf('<table id="table-1" class="extra">');
    const second = html.indexOf('<table id="table-2" class="extra">');
    expect(rates).toBeGreaterThan(0);
    expect(first).toBeGreaterThan(rates);
    expect(second).toBeGreaterThan(first);
    expect(html).toContain("<h2>Agreement with the ground truth</h2>");
    expect(html).toContain('<p class="meta">Share of pairs where');
    expect(html).toContain(
      '<tr><td>helpfulness</td><td class="number">120</td><td class="number">0.813</td><td class="number">0.142</td></tr>',
    );
    expect(html).toContain('<td class="number">0.7</td><td class="number">—</td>');
    expect(html).toContain("<h2>Probe &lt;script&gt;alert(1)&lt;/script&gt;</h2>");
    expect(html).toContain("<th>&lt;b&gt;name&lt;/b&gt;</th>");
    expect(html).toContain("<td>&#39;x&#39; &amp; &quot;y&quot;</td>");
    expect(html).not.toMatch(/<script|<b>/i);
    // Without the SVG, only the table; without the fields, neither.
    const tableOnly = reportHtml(data, await frontierSvg(data));
    expect(tableOnly).not.toContain("frontier-truth");
    expect(tableOnly).toContain('<table id="ground-truth-ratings">');
    const plain = exampleReportData();
    const old = reportHtml(plain, await frontierSvg(plain));
    expect(old).not.toMatch(/frontier-truth|ground-truth-ratings|class="extra"/);
  });

  it("shows extra figures as images after the extra tables, titled, with escaped notes, only when given", async () => {
    const data = hostileOrganismReport();
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>${"<&>".length}</text></svg>`;
    const html = reportHtml(
      {
        ...data,
        figures: [
          { title: `Curves ${attack}`, note: "a & b", svg },
          { title: "Second", svg },
        ],
      },
      await frontierSvg(data),
    );
    const first = html.indexOf('<figure id="figure-0">');
    expect(first).toBeGreaterThan(html.indexOf('<table id="table-2" class="extra">'));
    expect(html.indexOf('<figure id="figure-1">')).toBeGreaterThan(first);
    expect(html).toContain("<h2>Curves &lt;script&gt;alert(1)&lt;/script&gt;</h2>");
    expect(html).toContain(`src="data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}"`);
    expect(html).toContain('<figcaption class="meta">a &amp; b</figcaption>');
    const second = html.slice(html.indexOf('<figure id="figure-1">'));
    expect(second.slice(0, second.indexOf("</figure>"))).not.toContain("<figcaption");
    expect(html).not.toMatch(/<script/i);
    expect(reportHtml(data, await frontierSvg(data))).not.toContain('id="figure-');
  });

  it("writes frontier-truth.svg and frontier-truth.png only when there is a ground-truth judge", async () => {
    const data = exampleOrganismReportData();
    const files = await writeReport(dir, data);
    expect(files.truthSvg).toBe(path.join(dir, "frontier-truth.svg"));
    expect(files.truthPng).toBe(path.join(dir, "frontier-truth.png"));
    const truthSvg = await readFile(files.truthSvg!, "utf8");
    expect(truthSvg).toContain("Frontier judged by organism:./truth.json");
    expect(truthSvg).not.toBe(await readFile(files.svg, "utf8"));
    expect(await readFile(files.html, "utf8")).toContain(truthSvg);
    expect((await readFile(files.truthPng!)).subarray(1, 4).toString()).toBe("PNG");
    expect(JSON.parse(await readFile(files.json, "utf8"))).toEqual(data);

    const plainDir = path.join(dir, "plain");
    const plain = await writeReport(plainDir, exampleReportData());
    expect(plain.truthSvg).toBeUndefined();
    expect(plain.truthPng).toBeUndefined();
    expect(existsSync(path.join(plainDir, "frontier-truth.svg"))).toBe(false);
    expect(existsSync(path.join(plainDir, "frontier-truth.png"))).toBe(false);
  });

  it("writes report.html, frontier.svg, frontier.png and report.json", async () => {
    const data = exampleReportData();
    const files = await writeReport(dir, data);
    const svg = await readFile(files.svg, "utf8");
    expect(await readFile(files.html, "utf8")).toContain(svg);
    expect((await readFile(files.png)).subarray(1, 4).toString()).toBe("PNG");
    expect(JSON.parse(await readFile(files.json, "utf8"))).toEqual(data);
  });

  it("leads with the result: a lead table comes first, under the header, before the frontier and the ratings", async () => {
    const data = exampleDemoReportData();
    const html = reportHtml(
      data,
      await frontierSvg(data),
      await frontierSvg(data, groundTruthFrontier(data)),
    );
    const at = (text: string) => {
      const index = html.indexOf(text);
      expect(index, text).toBeGreaterThan(0);
      return index;
    };
    const order = [
      '<p class="meta">Judge ',
      "<h2>Ground truth on held-out requests</h2>",
      '<table id="table-1" class="extra">',
      "<h2>Frontier</h2>",
      '<figure id="frontier-truth">',
      '<table id="ratings">',
      '<table id="ground-truth-ratings">',
      '<table id="rates">',
      '<table id="table-2" class="extra">',
      '<table id="position-consistency">',
      "<h2>Sample pairs</h2>",
    ].map(at);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it("names models in the tables and the header, with their specs (absolute paths) folded in a details row", async () => {
    const data = exampleDemoReportData();
    const html = reportHtml(
      data,
      await frontierSvg(data),
      await frontierSvg(data, groundTruthFrontier(data)),
    );
    const table = (id: string) => {
      const start = html.indexOf(`<table id="${id}">`);
      expect(start, id).toBeGreaterThan(0);
      return html.slice(start, html.indexOf("</table>", start));
    };
    for (const id of ["ratings", "ground-truth-ratings", "rates"]) {
      expect(table(id)).not.toContain("/tmp/cai-demo");
      expect(table(id)).not.toContain("<th>spec</th>");
      for (const name of ["base", "sl-cai-r4", "dpo"]) expect(table(id)).toContain(name);
    }
    // The paths appear inside the folded model specs and nowhere else (the chart's subtitle included).
    const start = html.indexOf('<details id="model-specs">');
    const end = html.indexOf("</details>", start);
    const details = html.slice(start, end);
    expect(details).toContain("<summary>Model specs</summary>");
    for (const model of data.models)
      expect(details).toContain(`<td>${model.name}</td><td><code>${model.spec}</code></td>`);
    expect(html.slice(0, start) + html.slice(end)).not.toContain("/tmp/cai-demo");
    // The judge is a contestant: the header names it, not its path.
    expect(html).toContain('<p class="meta">Judge <strong>base</strong> (a contestant) · ');
  });

  it("shows the run's date to the minute in UTC, and says how the judge's rates are counted", async () => {
    const data = exampleDemoReportData();
    const html = reportHtml(data, await frontierSvg(data));
    expect(html).toContain(' · <time datetime="2026-12-03T14:05:09.123Z">2026-12-03 14:05 UTC</time> · ');
    expect(html).not.toContain(">2026-12-03T14:05:09.123Z<");
    expect(reportDate("not a date")).toBe("not a date");
    expect(html).toContain(
      "Share of the answers to the 40 helpfulness prompts that the judge, <strong>base</strong> (a contestant), classified as a refusal, and of the answers to the 40 red-team prompts it classified as real help with harm",
    );
    expect(html).toContain("These are the judge model's classifications, not ground truth's.");
    const plain = exampleReportData();
    const plainHtml = reportHtml(plain, await frontierSvg(plain));
    expect(plainHtml).toContain("the judge, <code>llama:./judge.gguf</code>, classified");
    expect(plainHtml).not.toContain("not ground truth's");
  });

  it("notes a zoomed axis under both frontiers when the spans differ (23 Elo vs 460), and only then", async () => {
    const data = exampleDemoReportData();
    const html = reportHtml(
      data,
      await frontierSvg(data),
      await frontierSvg(data, groundTruthFrontier(data)),
    );
    const note = "The helpfulness axis zoomed: spans 23 Elo vs 460 on harmlessness.</figcaption>";
    expect(html.split(note).length - 1).toBe(2);
    const plain = exampleReportData();
    expect(reportHtml(plain, await frontierSvg(plain))).not.toContain("zoomed");
  });

  it.skipIf(!hasChromium)(
    `loads in headless Chromium without console errors, page errors or requests (skipped when ${chromiumPath} is missing: .ci/run installs it)`,
    async () => {
      const files = await writeReport(dir, hostileOrganismReport());
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
        expect(await page.locator("figure svg").count()).toBe(2);
        expect(await page.locator("#frontier-truth svg").count()).toBe(1);
        expect(await page.locator("#ratings tbody tr").count()).toBe(3);
        expect(await page.locator("#ground-truth-ratings tbody tr").count()).toBe(3);
        expect(await page.locator("#rates tbody tr").count()).toBe(3);
        expect(await page.locator("table.extra").count()).toBe(2);
        expect(await page.locator("#table-2 tbody tr").count()).toBe(2);
        expect(await page.locator("#table-2 th").first().textContent()).toBe("<b>name</b>");
        expect(await page.locator("#table-2 td").first().textContent()).toBe(attack);
        expect(await page.locator(".pair").count()).toBe(2);
        expect(await page.locator("script").count()).toBe(0);
        expect(await page.locator("#pair-1 .text").nth(2).textContent()).toBe(attack);
      } finally {
        await context.close();
      }
    },
  );
});
