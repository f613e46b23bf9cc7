-- Staging refresh, 2026-10-02: `mysqldump --no-create-info magento core_config_data` (excerpt).
-- Shared with the agency for debugging the AI assistant module.

LOCK TABLES `core_config_data` WRITE;
/*!40000 ALTER TABLE `core_config_data` DISABLE KEYS */;
INSERT INTO `core_config_data` (`config_id`, `scope`, `scope_id`, `path`, `value`, `updated_at`) VALUES
(1,'default',0,'web/seo/use_rewrites','1','2026-03-11 09:12:44'),
(2,'default',0,'web/unsecure/base_url','https://staging.acme-shop.example/','2026-03-11 09:12:44'),
(3,'default',0,'web/secure/base_url','https://staging.acme-shop.example/','2026-03-11 09:12:44'),
(4,'default',0,'general/locale/code','de_DE','2026-03-11 09:12:44'),
(5,'default',0,'currency/options/base','EUR','2026-03-11 09:12:44'),
(212,'default',0,'openai/general/enabled','1','2026-09-28 14:03:17'),
(213,'default',0,'openai/general/api_key','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','2026-09-28 14:03:17'),
(214,'default',0,'openai/general/model','gpt-4o-mini','2026-09-28 14:03:17'),
(215,'default',0,'mistral/general/enabled','1','2026-09-30 08:41:02'),
(216,'default',0,'mistral/general/api_key','0:3:C4SvMKLZWg3kIQDsjror9I5Gna4KXqMu4a+NIEu5sF1DcqlR+PEe4c81oBs2LD/ocYkQ/fUovOXc91fkXwDXZcV2pW/wmo+WtcP/O3fjkWwdJjZ/O6nwbw==','2026-09-30 08:41:02'),
(217,'default',0,'mistral/general/model','mistral-small-latest','2026-09-30 08:41:02'),
(218,'default',0,'acme_ai/local/ollama_url','http://127.0.0.1:11434','2026-09-30 08:41:02');
/*!40000 ALTER TABLE `core_config_data` ENABLE KEYS */;
UNLOCK TABLES;
