// The baseline from Microsoft's docs and samples: an Express receiver that answers the validation
// handshake and keeps notifications in memory (no persistence). Used only by the ingest benchmark.
const express = require('express');

const app = express();
const clientState = 's3cret';
const received = [];

function listen(req, res) {
  if (req.query && req.query.validationToken) {
    res.set('Content-Type', 'text/plain');
    res.send(req.query.validationToken);
    return;
  }
  for (const notification of req.body.value) {
    if (notification.clientState === clientState) {
      received.push(notification);
    }
  }
  if (received.length > 100000) received.length = 0; // bounded memory for long runs
  res.status(202).end();
}

app.post('/notifications', express.json({ limit: '8mb' }), listen);

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
