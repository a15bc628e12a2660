<?php
// The demo's PHP page: served by php-fpm through portico's FastCGI gateway.
header('Content-Type: text/html; charset=utf-8');
$name = isset($_GET['name']) ? $_GET['name'] : 'world';
?>
<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Hello from PHP</title>
<link rel="stylesheet" href="/css/site.css"></head>
<body>
<h1>Hello, <?= htmlspecialchars($name, ENT_QUOTES) ?>!</h1>
<p>PHP <?= htmlspecialchars(PHP_VERSION) ?> answered through <?= htmlspecialchars($_SERVER['SERVER_SOFTWARE'] ?? 'portico') ?>
   (<?= htmlspecialchars($_SERVER['GATEWAY_INTERFACE'] ?? '') ?>).</p>
<p>Script: <code><?= htmlspecialchars($_SERVER['SCRIPT_NAME']) ?></code>,
   path info: <code><?= htmlspecialchars($_SERVER['PATH_INFO'] ?? '(none)') ?></code>.</p>
<p><a href="/">Back to the start</a></p>
</body>
</html>
