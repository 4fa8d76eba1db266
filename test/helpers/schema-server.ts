// A local HTTP server answering a schema registry's one question that stream2science asks
// (`GET /schemas/ids/<id>`, Confluent's API, and its probe `GET /subjects`) with the texts it is given: a way to serve a hostile
// writer schema to the real registry client. An id it does not hold gets the registry's 404 40403.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SchemaServer {
  url: string;
  close(): Promise<void>;
}

export async function startSchemaServer(texts: ReadonlyMap<number, string>): Promise<SchemaServer> {
  const server = createServer((req, res) => {
    // stream2science's probe at start: a registry lists its subjects.
    if (req.url === '/subjects') return res.writeHead(200, { 'Content-Type': 'application/vnd.schemaregistry.v1+json' }).end('[]');
    const id = /^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '')?.[1];
    const text = id === undefined ? undefined : texts.get(Number(id));
    res.setHeader('Content-Type', 'application/vnd.schemaregistry.v1+json');
    if (text === undefined) {
      res.writeHead(404).end(JSON.stringify({ error_code: 40403, message: `Schema ${id} not found` }));
      return;
    }
    res.writeHead(200).end(JSON.stringify({ schema: text }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
