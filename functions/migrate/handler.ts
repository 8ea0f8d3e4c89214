// Placeholder so the CDK app can bundle this entry while the real handler is being built.
export const handler = async (): Promise<never> => {
  throw new Error("functions/migrate/handler.ts is not implemented yet");
};
