package wire_test

import (
	"fmt"

	"github.com/cxbus/webchat/transports/gms/wire"
)

func ExampleDecodeResponse() {
	body := []byte(`{"statusCode":0,"alias":"117","userId":"007555677B20000A","secureKey":"4ee15d7e1c343c8e",
	 "chatId":"00048aAPEQJ8000U","nextPosition":2,"messages":[{"from":{"nickname":"First Last",
	 "participantId":1,"type":"Client"},"index":1,"type":"ParticipantJoined","utcTime":1432845088000}]}`)
	r, err := wire.DecodeResponse(body)
	if err != nil {
		panic(err)
	}
	var keys wire.Keys
	keys.Apply(r)
	fmt.Println(keys)
	for _, e := range r.Messages {
		fmt.Println(e.Index, e.Type, e.From.Nickname, e.From.ParticipantID)
	}
	fmt.Println("next:", wire.Cursor(r.NextPosition, r.MaxIndex()))

	_, err = wire.DecodeResponse([]byte(`{"statusCode":0,"messages":[{"index":"x","type":"Message"}]}`))
	fmt.Println(err)
	// Output:
	// chatId=00048aAPEQJ8000U userId=007555677B20000A alias=117 secureKey=[redacted]
	// 1 ParticipantJoined First Last 1
	// next: 2
	// wire: invalid Chat V2 response: messages[0].index: want an integer, got a non-numeric string
}

func ExampleRequest_Form() {
	r := &wire.Request{Operation: wire.OpRefresh, TranscriptPosition: 2}
	r.SetKeys(wire.Keys{ChatID: "00048aAPEQJ8000U", UserID: "007555677B20000A", SecureKey: "4ee15d7e1c343c8e", Alias: "117"})
	u, _ := wire.RESTURL("http://gms:8080/genesys/2/chat/customer-support", r.Operation, r.ChatID, "", true)
	form, _ := r.Form()
	fmt.Println(u)
	fmt.Println(form.Encode())
	// Output:
	// http://gms:8080/genesys/2/chat/customer-support/00048aAPEQJ8000U/refresh
	// alias=117&message=&secureKey=4ee15d7e1c343c8e&transcriptPosition=2&userId=007555677B20000A
}

func ExampleRequest_MarshalCometD() {
	r := &wire.Request{Operation: wire.OpSendMessage, Message: "Hello", MessageType: "text", SecureKey: "4ee15d7e1c343c8e"}
	b, _ := r.MarshalCometD()
	fmt.Println(wire.ServiceChannel("customer-support"))
	fmt.Println(string(b))
	// Output:
	// /service/chatV2/customer-support
	// {"message":"Hello","messageType":"text","operation":"sendMessage","secureKey":"4ee15d7e1c343c8e"}
}

func ExampleFileLimits_CheckUpload() {
	l := wire.DefaultFileLimits()
	l.UsedUploadMaxFiles = 3
	fmt.Println(l.CheckUpload("invoice.pdf", 1000))
	l.UsedUploadMaxFiles = 0
	fmt.Println(l.CheckUpload("tool.exe", 1000))
	// Output:
	// 201 (3)
	// 203 (bmp:csv:doc:docx:gif:htm:jpg:pdf:png:ppt:pptx:tif:txt:xls:xlsx)
}
