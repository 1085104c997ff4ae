// A loopback proxy that adds a bearer token to every request it forwards, so a client without OAuth (the conformance suite) goes through the real /mcp gate.
import http from 'node:http';

/**
 * Starts the proxy on a free 127.0.0.1 port. Every header (Host and Origin included, for the
 * DNS-rebinding checks) is forwarded unchanged except Authorization, which becomes `token`.
 * @param {{ target: string, token: () => string }} options target origin, e.g. http://127.0.0.1:8787
 */
export function startAuthProxy({ target, token }) {
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers, authorization: `Bearer ${token()}` };
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
    res.on('close', () => forward.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve({
        port,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done(undefined));
          }),
      });
    });
  });
}
