/**
 * A forward proxy for tests of proxy-url and HTTPS_PROXY: it answers HTTP CONNECT, records each
 * target, and tunnels to it, sending every host name to 127.0.0.1 (so a kubeconfig can name the
 * test API server by a name of its certificate that no DNS resolves: only the proxy reaches it).
 */
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";

/** ConnectProxy is a running proxy. */
export interface ConnectProxy {
  /** url is the proxy's address, for proxy-url or HTTPS_PROXY. */
  url: string;
  /** targets lists the host:port of each CONNECT, in order. */
  targets: string[];
  close(): Promise<void>;
}

/** startConnectProxy starts a CONNECT proxy on a free loopback port. */
export async function startConnectProxy(): Promise<ConnectProxy> {
  const targets: string[] = [];
  const tunnels = new Set<Socket>();
  const server: Server = createServer((_req, res) => {
    res.writeHead(405).end("CONNECT only");
  });
  server.on("connect", (req, client, head) => {
    const target = req.url ?? "";
    targets.push(target);
    const port = Number(target.slice(target.lastIndexOf(":") + 1));
    const upstream = connect(port, "127.0.0.1", () => {
      tunnels.add(upstream).add(client as Socket);
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    targets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of tunnels) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
