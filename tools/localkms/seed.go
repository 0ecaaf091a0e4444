package main

// seed is upstream's src/seed.go (unexported there, so src.Run's seeding
// cannot be called from here), adapted to take the logger as an argument
// and otherwise unchanged in behaviour: a missing file is skipped, keys and
// aliases that already exist are left alone.
//
// Upstream: github.com/nsmithuk/local-kms, src/seed.go, at the version in
// go.mod.
// Copyright (c) 2017 Neil Smith. MIT License:
//
// Permission is hereby granted, free of charge, to any person obtaining a
// copy of this software and associated documentation files (the
// "Software"), to deal in the Software without restriction, including
// without limitation the rights to use, copy, modify, merge, publish,
// distribute, sublicense, and/or sell copies of the Software, and to permit
// persons to whom the Software is furnished to do so, subject to the
// following conditions:
//
// The above copyright notice and this permission notice shall be included
// in all copies or substantial portions of the Software.
//
// THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS
// OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
// MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN
// NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
// DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
// OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE
// USE OR OTHER DEALINGS IN THE SOFTWARE.

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/nsmithuk/local-kms/src/cmk"
	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
	log "github.com/sirupsen/logrus"
	"github.com/syndtr/goleveldb/leveldb"
	"gopkg.in/yaml.v2"
)

// seed imports the keys and aliases of the YAML file at path into database.
// The key types decode themselves from YAML using config (ARN prefix,
// account), so config must be set first.
func seed(logger *log.Logger, path string, database *data.Database) {
	path, _ = filepath.Abs(path)

	if _, err := os.Stat(path); os.IsNotExist(err) {
		logger.Infof("No file found at path %s; skipping seeding.", path)
		return
	}

	content, err := os.ReadFile(path)
	if err != nil {
		logger.Errorf("Unable to read seed content of file at path %s; skipping.", path)
		return
	}

	type InputSymmetric struct {
		Aes  []cmk.AesKey  `yaml:"Aes"`
		Hmac []cmk.HmacKey `yaml:"Hmac"`
	}
	type InputAsymmetric struct {
		Rsa []cmk.RsaKey `yaml:"Rsa"`
		Ecc []cmk.EccKey `yaml:"Ecc"`
	}
	type InputKeys struct {
		Symmetric  InputSymmetric  `yaml:"Symmetric"`
		Asymmetric InputAsymmetric `yaml:"Asymmetric"`
	}
	type Input struct {
		Keys    InputKeys    `yaml:"Keys"`
		Aliases []data.Alias `yaml:"Aliases"`
	}

	var (
		eccKeys  []cmk.EccKey
		rsaKeys  []cmk.RsaKey
		aesKeys  []cmk.AesKey
		hmacKeys []cmk.HmacKey
		aliases  []data.Alias
	)

	input := Input{}
	if err := yaml.Unmarshal(content, &input); err != nil {
		logger.Warnf("Error parsing YAML at path %s: %s; attempting to parse legacy format.", path, err)

		// The legacy format: a flat list of AES keys.
		type InputOld struct {
			Keys    []cmk.AesKey `yaml:"Keys"`
			Aliases []data.Alias `yaml:"Aliases"`
		}
		old := InputOld{}
		if err := yaml.Unmarshal(content, &old); err != nil {
			logger.Errorf("Error parsing YAML at path %s: %s; skipping.", path, err)
			return
		}
		if len(old.Keys) > 0 {
			logger.Warnf("The seed file is using a legacy format. Please update to the latest version. " +
				"Support for the legacy version will be removed in future versions.")
		}
		aesKeys = old.Keys
		aliases = old.Aliases
	} else {
		aesKeys = input.Keys.Symmetric.Aes
		hmacKeys = input.Keys.Symmetric.Hmac
		rsaKeys = input.Keys.Asymmetric.Rsa
		eccKeys = input.Keys.Asymmetric.Ecc
		aliases = input.Aliases
	}

	logger.Infof("Importing data from seed file %s", path)

	for i := range aliases {
		aliases[i].AliasArn = config.ArnPrefix() + aliases[i].AliasName
	}

	keysAdded := 0
	var keys []cmk.Key
	for i := range aesKeys {
		keys = append(keys, &aesKeys[i])
	}
	for i := range hmacKeys {
		keys = append(keys, &hmacKeys[i])
	}
	for i := range rsaKeys {
		keys = append(keys, &rsaKeys[i])
	}
	for i := range eccKeys {
		keys = append(keys, &eccKeys[i])
	}
	for _, key := range keys {
		if !keyIsNew(logger, database, key.GetMetadata()) {
			continue
		}
		if err := database.SaveKey(key); err != nil {
			logger.Errorf("Unable to save key %s: %s", key.GetMetadata().KeyId, err)
			continue
		}
		logger.Infof("Imported %s key: %+v", key.GetMetadata().KeySpec, key.GetMetadata())
		keysAdded++
	}

	aliasesAdded := 0
	for i := range aliases {
		alias := &aliases[i]
		if _, err := database.LoadAlias(alias.AliasArn); err != leveldb.ErrNotFound {
			logger.Warnf("Alias %s already exists; skipping alias", alias.AliasName)
			continue
		}
		if err := database.SaveAlias(alias); err != nil {
			logger.Errorf("Unable to save alias %s: %s", alias.AliasName, err)
			continue
		}
		aliasesAdded++
	}

	logger.Infof("%d new keys and %d new aliases added", keysAdded, aliasesAdded)
}

// keyIsNew reports whether database has no key with metadata's ARN. As
// upstream, an error other than "not found" counts as "exists" (skip).
func keyIsNew(logger *log.Logger, database *data.Database, metadata *cmk.KeyMetadata) bool {
	// data.KeyNotFoundError is a nil pointer of the unexported error type;
	// a copy gives errors.As a target of that type without writing to
	// the package variable, as upstream does.
	notFound := data.KeyNotFoundError
	if _, err := database.LoadKey(metadata.Arn); !errors.As(err, &notFound) {
		logger.Warnf("Key %s already exists; skipping key", metadata.KeyId)
		return false
	}
	return true
}
