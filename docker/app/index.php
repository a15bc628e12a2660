<?php
// The demo application of docker/compose.yaml and the container test: a front controller
// that says who answered it.
header('Content-Type: text/plain');
echo 'hello from php ', PHP_VERSION, "\n";
echo 'uri=', $_SERVER['REQUEST_URI'], "\n";
echo 'script=', $_SERVER['SCRIPT_FILENAME'], "\n";
echo 'server=', $_SERVER['SERVER_ADDR'] ?? '', "\n";
if (isset($_GET['sleep'])) {
    sleep((int)$_GET['sleep']);
    echo "slept\n";
}
