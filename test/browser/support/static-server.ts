// Serves fixed files from 127.0.0.1, so that a page under test loads over the same kind of
// connection as the status page; anything else is a 404.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StaticFile {
  readonly contentType: string;
  readonly body: string | Buffer;
}

export interface StaticServer {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** every path asked for, in order */
  readonly paths: readonly string[];
  close(): Promise<void>;
}

export async function serveStatic(files: Readonly<Record<string, StaticFile>>): Promise<StaticServer> {
  const paths: string[] = [];
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    paths.push(path);
    const file = Object.hasOwn(files, path) ? files[path] : undefined;
    if (file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': file.contentType }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    paths,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
