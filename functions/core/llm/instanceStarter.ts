/**
 * Starts the stopped LLM server's EC2 instance and counts the start as LLM activity
 * (docs/design.md "The LLM server off when idle"). Used by functions/llmStarter, the
 * consumer of the LLM start queue.
 *
 * - StartInstances on a running (or pending) instance changes nothing and succeeds; on a
 *   stopping one EC2 answers IncorrectInstanceState (an instance can only be started once
 *   it is stopped: docs.aws.amazon.com/AWSEC2/latest/UserGuide/Stop_Start.html,
 *   docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html). That error, and
 *   any other, is thrown, so the message comes back after the queue's visibility timeout
 *   and the start is tried again.
 * - Then one LlmActivity datapoint (the metric the idle alarm watches, with the executor's
 *   dimensions and the InstanceId) is put on the executor's behalf. This is what turns the idle alarm from ALARM back to OK, so an
 *   instance started for a task that was then cancelled is stopped again after the idle
 *   minutes: an alarm acts only on a transition INTO ALARM, and one that stayed in ALARM
 *   since the last stop would never act again. SetAlarmState(OK) would not do: "metric
 *   alarms return to their actual state quickly, often within seconds"
 *   (docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html), and
 *   the actual state (N minutes without data, treated as breaching) is ALARM, so the
 *   return would fire the stop action on the instance just started.
 */
import { type CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { type EC2Client, StartInstancesCommand } from "@aws-sdk/client-ec2";
import { METRIC_NAMESPACE, METRICS } from "../telemetry/metricNames";
import type { Logger } from "../telemetry/ports";

export interface InstanceStarterDeps {
  ec2: Pick<EC2Client, "send">;
  cloudwatch: Pick<CloudWatchClient, "send">;
  instanceId: string;
  /** The deployment's environment (the metric's `environment` dimension). */
  environment: string;
  logger: Logger;
}

export interface StartResult {
  /** The instance's state before the call (e.g. "stopped", "running"). */
  previousState: string | undefined;
  currentState: string | undefined;
}

export async function startLlmInstance(deps: InstanceStarterDeps): Promise<StartResult> {
  const { ec2, cloudwatch, instanceId, environment, logger } = deps;
  let result: StartResult;
  try {
    const out = await ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
    const change = out.StartingInstances?.find((i) => i.InstanceId === instanceId);
    result = {
      previousState: change?.PreviousState?.Name,
      currentState: change?.CurrentState?.Name,
    };
  } catch (error) {
    const name = (error as { name?: string }).name;
    logger.warn(
      name === "IncorrectInstanceState"
        ? "the LLM instance is stopping; starting it again once the message returns"
        : "could not start the LLM instance; the message returns and it is tried again",
      { error, instanceId },
    );
    throw error;
  }
  await cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: METRIC_NAMESPACE,
      MetricData: [
        {
          MetricName: METRICS.llmActivity.name,
          Unit: METRICS.llmActivity.unit,
          Value: 1,
          Dimensions: [
            { Name: "service", Value: "executor" },
            { Name: "environment", Value: environment },
            { Name: "InstanceId", Value: instanceId },
          ],
        },
      ],
    }),
  );
  logger.info("LLM instance start requested", { instanceId, ...result });
  return result;
}
