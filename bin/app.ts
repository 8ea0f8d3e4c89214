import { App } from "aws-cdk-lib";
import { SettingsError } from "../functions/core/errors";
import { addTaskPipeline } from "../lib/pipelineApp";

// CDK entry (`cdk synth -c env=dev`): a bad cdk.json setting stops here with its name.
try {
  const app = new App();
  addTaskPipeline(app);
  app.synth();
} catch (error) {
  if (!(error instanceof SettingsError)) throw error;
  console.error(error.message);
  process.exit(1);
}
