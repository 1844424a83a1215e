// The folder of the headers shared by gru's addons, for their binding.gyp (as node-addon-api's
// include_dir: relative to the working directory, so a path with spaces survives gyp's quoting).
const { join, relative } = require('node:path');

module.exports = { include_dir: relative('.', join(__dirname, 'native', 'include')) };
