// bench/webhooks/receiver.js -- a fast receiver for the delivery benchmark:
// answers 204 at once (keep-alive) and records each request's webhook-id and
// arrival time (epoch microseconds); writes them as "id t" lines on SIGTERM.
//   node receiver.js PORT OUTFILE
const http = require("http");
const fs = require("fs");
const [port, out] = process.argv.slice(2);
const seen = [];
const srv = http.createServer((req, res) => {
  req.on("data", () => {});
  req.on("end", () => {
    seen.push(req.headers["webhook-id"] + " " +
              Math.round((performance.timeOrigin + performance.now()) * 1000));
    res.writeHead(204);
    res.end();
  });
});
srv.keepAliveTimeout = 60000;
srv.listen(Number(port), "127.0.0.1", () => console.log("listening"));
process.on("SIGTERM", () => {
  fs.writeFileSync(out, seen.join("\n") + (seen.length ? "\n" : ""));
  process.exit(0);
});
