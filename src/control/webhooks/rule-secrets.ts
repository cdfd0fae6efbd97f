/** What a webhook rule keeps sealed: its authentication headers and query parameters, and its signing secret. */
export interface RuleSecrets {
  authentication: { headers?: Record<string, string>; queryParams?: Record<string, string> };
  signingSecret: string;
}
