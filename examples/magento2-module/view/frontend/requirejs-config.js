var config = {
    map: {
        '*': {
            acmeAiChat: 'Acme_AiAssistant/js/chat-widget',
            acmeSupportForm: 'Acme_AiAssistant/js/support-form'
        }
    }
};
