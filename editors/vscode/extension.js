// Starts `mllint server` (LSP over stdio) for Dockerfiles, YAML and requirements files.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("mllint").get("path", "mllint");
  const server = { command, args: ["server"] };
  client = new LanguageClient(
    "mllint",
    "mllint",
    { run: server, debug: server },
    {
      documentSelector: [
        { scheme: "file", language: "dockerfile" },
        { scheme: "file", language: "yaml" },
        { scheme: "file", language: "pip-requirements" },
        { scheme: "file", pattern: "**/{Dockerfile,Containerfile}*" },
      ],
      synchronize: {
        fileEvents: vscode.workspace.createFileSystemWatcher(
          "**/{*.yaml,*.yml,*.json,Dockerfile*,*.Dockerfile,requirements*.txt,.mllint.yaml,pyproject.toml}"
        ),
      },
    }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
