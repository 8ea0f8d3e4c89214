import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { channelForOwner } from "../../functions/core/realtime/channel";
import { waitFor } from "../../testkit/waitFor";
import { CHROMIUM_ARGS, CHROMIUM_PATH, ensureChromium } from "../support/chromium";
import { REMOTE, useE2eTarget } from "../support/e2eTarget";
import type { TaskView } from "../support/http";

/**
 * The console page (console/) in headless Chromium against the local runtime: sign in
 * with a pasted token, create a task, watch its status go live to completed with its
 * streamed output on screen, then retry is offered for a cancelled one. A screenshot is
 * saved under the OS temp directory (its path printed).
 */

const skipReason = REMOTE
  ? "the console test runs against the local runtime only"
  : ensureChromium();
if (skipReason) console.log(`console test skipped: ${skipReason}`);

const target = useE2eTarget();
let context: BrowserContext | undefined;
let profile: string | undefined;

beforeAll(async () => {
  if (skipReason) return;
  profile = await mkdtemp(join(tmpdir(), "task-pipeline-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 390, height: 844 },
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

describe.skipIf(Boolean(skipReason))("the console page", { timeout: 180_000 }, () => {
  it("signs in, creates a task and shows it completing live with its streamed output", async () => {
    // Prepare
    const { tokenA, local, api } = target.current;
    const answer = Array.from({ length: 120 }, (_, i) => `piece${i}`).join(" ");
    local?.ollama.respondWith(() => answer);
    local?.ollama.setChunkDelay(15);
    const page = await (context as BrowserContext).newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));

    // Act
    await page.goto(api.baseUrl);
    await page.getByLabel(/Token/).fill(tokenA);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Live: updates appear as they happen.").waitFor({ timeout: 30_000 });
    await page.getByLabel("Type").selectOption("prompt");
    await page.getByLabel("Title (optional)").fill("console test");
    await page.getByLabel("Prompt").fill("write me a list");
    await page.getByRole("button", { name: "Create" }).click();
    const item = page.locator("li.task", { hasText: "console test" });
    await item.waitFor({ timeout: 30_000 });
    // Output appears while the task still runs (the answer streams for ~2 s).
    await item.locator("[data-role=output]", { hasText: "piece" }).waitFor({ timeout: 90_000 });
    const statusWhileStreaming = await item.locator("[data-role=status]").textContent();
    await item.locator("[data-role=status]", { hasText: "completed" }).waitFor({ timeout: 90_000 });
    const id = await item.getAttribute("data-task-id");
    const onScreen = await item.locator("[data-role=output]").textContent();
    const stored = await waitFor(async () => {
      const got = await api.request<TaskView>("GET", `/api/tasks/${id}`, { token: tokenA });
      return got.body.status === "completed" ? got.body : undefined;
    });
    const screenshot = join(tmpdir(), `task-pipeline-console-${Date.now()}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`console screenshot: ${screenshot}`);

    // Assess
    expect(statusWhileStreaming).toMatch(/in progress|completed/);
    expect(onScreen).toBe(answer);
    expect(stored.result?.response).toBe(answer);
    expect(await page.getByRole("status").textContent()).toContain("Live");
    expect(errors).toEqual([]);
    // The page's copy of the channel rule agrees with core's, hashed subs included.
    for (const sub of ["alice@example.com", "3f8e6a2c-1b2d-4c5e-8f90-a1b2c3d4e5f6"]) {
      const inPage = await page.evaluate(
        (value) =>
          (globalThis as unknown as { channelFor(s: string): Promise<string> }).channelFor(value),
        sub,
      );
      expect(inPage).toBe(channelForOwner(sub));
    }
  });

  it("cancels a pending task and offers to retry it", async () => {
    // Prepare
    const { tokenA, api } = target.current;
    const page = await (context as BrowserContext).newPage();
    await page.goto(api.baseUrl);
    // The token is kept for the tab's session only: a new page signs in again.
    await page.getByLabel(/Token/).fill(tokenA);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Live: updates appear as they happen.").waitFor({ timeout: 30_000 });
    const created = await api.request<TaskView>("POST", "/api/tasks", {
      token: tokenA,
      body: {
        type: "prompt",
        title: "later",
        input: { prompt: "not yet" },
        runAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    const item = page.locator(`li[data-task-id="${created.body.id}"]`);
    await item.waitFor({ timeout: 30_000 });

    // Act
    await item.getByRole("button", { name: "Cancel later" }).click();
    await item.locator("[data-role=status]", { hasText: "cancelled" }).waitFor({ timeout: 30_000 });

    // Assess
    await expect(item.getByRole("button", { name: "Retry later" }).isVisible()).resolves.toBe(true);
  });
});
