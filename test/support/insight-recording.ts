// The second Langfuse recording (cases-insight.json, 2026-12-02, project `local-project`), as the
// contract tests that replay parts of it need it: its generations with the cost Langfuse gave them,
// the project it answered for, and one recorded request sent again over HTTP.
import { startFakeLangfuse, type FakeLangfuse, type FakeObservation } from '../../tools/fake-langfuse/server.js';
import { startDemoLangfuse, type DemoLangfuse } from '../../src/demo/server.js';

/** One generation of the recording's data set (`observations_flat`), reduced to what the fakes need. */
export interface InsightObservation {
  id: string;
  traceId: string;
  traceName: string;
  userId: string | null;
  environment: string;
  agent_type: string;
  release: string;
  tags: string[];
  traceTimestamp: string;
  type: string;
  name?: string;
  startTime: string;
  model: string;
  usageDetails?: { input: number; output: number };
  /** null for a model no price covers: Langfuse reports its cost as 0 */
  expectedCost: { input: number; output: number; total: number } | null;
}

export const INSIGHT_PROJECT = { id: 'local-project', name: 'spend-alerts', organization: { id: 'local-org', name: 'Local' } };

/** Both Langfuse-compatible servers the recordings hold to (the test fake and the demo's), serving `observations` for the recording's keys and project. */
export async function startRecordingServers(
  observations: FakeObservation[],
  keys: { publicKey: string; secretKey: string },
): Promise<{ fake: FakeLangfuse; demo: DemoLangfuse; close: () => Promise<void> }> {
  const project = INSIGHT_PROJECT;
  const fake = await startFakeLangfuse({ observations, ...keys, projectId: project.id, projectName: project.name, organization: project.organization });
  const demo = await startDemoLangfuse({ observations, ...keys, project });
  return { fake, demo, close: async () => void (await Promise.all([fake.close(), demo.close()])) };
}

/** The generations as Langfuse priced them (expectedCost: its costDetails or its built-in price). */
export function insightObservations(recorded: readonly InsightObservation[]): FakeObservation[] {
  return recorded.map((o) => ({
    id: o.id,
    traceId: o.traceId,
    type: o.type,
    ...(o.name === undefined ? {} : { name: o.name }),
    startTime: o.startTime,
    traceTimestamp: o.traceTimestamp,
    traceName: o.traceName,
    userId: o.userId,
    sessionId: null,
    environment: o.environment,
    tags: o.tags,
    release: o.release,
    traceMetadata: { agent_type: o.agent_type },
    providedModelName: o.model,
    ...(o.usageDetails === undefined ? {} : { inputTokens: o.usageDetails.input, outputTokens: o.usageDetails.output }),
    inputCost: o.expectedCost?.input ?? 0,
    outputCost: o.expectedCost?.output ?? 0,
    totalCost: o.expectedCost?.total ?? 0,
  }));
}

/** Sends a recorded request again, to `baseUrl`, with its recorded Basic credentials. */
export async function replayRecorded(
  baseUrl: string,
  c: { path: string; rawQueryString: string | null; auth: string | null },
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${baseUrl}${c.path}?${c.rawQueryString ?? ''}`, {
    headers: { authorization: `Basic ${Buffer.from(c.auth ?? '').toString('base64')}` },
  });
  return { status: res.status, body: await res.json() };
}
