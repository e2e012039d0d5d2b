// Node's HTTP clients ignore HTTP(S)_PROXY. When one is set, every outbound request (Langfuse,
// Slack, webhooks) goes through undici's fetch and its EnvHttpProxyAgent instead: through the
// proxy, except for hosts in NO_PROXY. Private CAs need nothing here: Node reads
// NODE_EXTRA_CA_CERTS at start-up.
import type { Env } from '../config/interpolate.js';
import { collectBody, declaredLength, defaultHeaders, nodeTransport, type Transport } from './transport.js';

export interface ProxySettings {
  readonly httpProxy?: string;
  readonly httpsProxy?: string;
  readonly noProxy?: string;
}

export class ProxyConfigError extends Error {
  override name = 'ProxyConfigError';
}

/**
 * The proxy variables in `env`, lower case first as curl reads them; undefined when none is set.
 * A proxy without a scheme (`proxy:3128`) is http://, as curl takes it.
 */
export function proxySettings(env: Env): ProxySettings | undefined {
  const pick = (name: string): { value: string; variable: string } | undefined => {
    for (const variable of [name.toLowerCase(), name.toUpperCase()]) {
      const value = env[variable];
      if (value !== undefined && value.trim() !== '') return { value: value.trim(), variable };
    }
    return undefined;
  };
  const proxy = (name: string): string | undefined => {
    const found = pick(name);
    if (found === undefined) return undefined;
    const url = found.value.includes('://') ? found.value : `http://${found.value}`;
    // the value may carry a password: name the variable, not what it holds
    if (!URL.canParse(url)) throw new ProxyConfigError(`${found.variable} is not a proxy URL such as http://proxy.example.com:3128`);
    return url;
  };
  const httpProxy = proxy('http_proxy');
  const httpsProxy = proxy('https_proxy');
  if (httpProxy === undefined && httpsProxy === undefined) return undefined;
  const noProxy = pick('no_proxy')?.value;
  return {
    ...(httpProxy === undefined ? {} : { httpProxy }),
    ...(httpsProxy === undefined ? {} : { httpsProxy }),
    ...(noProxy === undefined ? {} : { noProxy }),
  };
}

/**
 * The transport for every outbound request: through the proxies `env` names, direct when it names
 * none. Throws ProxyConfigError for a value that is not a URL.
 */
export async function transportFromEnv(env: Env): Promise<Transport> {
  const settings = proxySettings(env);
  return settings === undefined ? nodeTransport : proxyTransport(settings);
}

async function proxyTransport(settings: ProxySettings): Promise<Transport> {
  // loaded only when needed: undici is a large module and most deployments have no proxy
  const { EnvHttpProxyAgent, fetch } = await import('undici');
  // undici falls back to process.env for what is not passed; '' stops that, so a .env file and
  // the real environment behave alike. Without an https proxy, undici sends https through the
  // http one.
  const dispatcher = new EnvHttpProxyAgent({
    httpProxy: settings.httpProxy ?? '',
    httpsProxy: settings.httpsProxy ?? '',
    noProxy: settings.noProxy ?? '',
  });
  return async (request) => {
    const response = await fetch(request.url, {
      method: request.method,
      headers: defaultHeaders(request),
      body: request.body ?? null,
      signal: request.signal,
      redirect: 'manual',
      dispatcher,
    });
    // fetch has decoded the body already; counted as it streams, like the direct transport does
    const encoding = (response.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
    const body =
      response.body === null
        ? ''
        : await collectBody(response.body, {
            maxBodyBytes: request.maxBodyBytes,
            status: response.status,
            declaredBytes: declaredLength(response.headers.get('content-length'), encoding),
            stop: () => void response.body?.cancel().catch(() => {}),
          });
    return { status: response.status, header: (name) => response.headers.get(name) ?? undefined, body };
  };
}
