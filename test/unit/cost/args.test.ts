import { describe, expect, it } from "vitest";
import { parseCostArgs } from "../../../cost/args";

describe("parseCostArgs", () => {
  it("prices every environment with 4 s, 600 and 250 tokens by default", () => {
    // Prepare
    const argv: string[] = [];

    // Act
    const args = parseCostArgs(argv);

    // Assess
    expect(args.env).toBeUndefined();
    expect(args.task).toMatchObject({ llmSeconds: 4, promptTokens: 600, completionTokens: 250 });
  });

  it("takes the environment and the workload from the options", () => {
    // Prepare
    const argv = [
      "--env=dev",
      "--llm-seconds=2.5",
      "--prompt-tokens=1000",
      "--completion-tokens=100",
      "--big-task-share=0.25",
    ];

    // Act
    const args = parseCostArgs(argv);

    // Assess
    expect(args.env).toBe("dev");
    expect(args.task).toMatchObject({
      llmSeconds: 2.5,
      promptTokens: 1000,
      completionTokens: 100,
      bigTaskShare: 0.25,
    });
  });

  it("names the option that is not a number or out of range", () => {
    // Prepare
    const notANumber = ["--llm-seconds=fast"];
    const tooBig = ["--big-task-share=2"];

    // Act
    const parse = (argv: string[]) => () => parseCostArgs(argv);

    // Assess
    expect(parse(notANumber)).toThrow(/--llm-seconds: must be a number/);
    expect(parse(tooBig)).toThrow(/--big-task-share/);
  });
});
